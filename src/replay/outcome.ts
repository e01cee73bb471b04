import { Fingerprint } from '../tape/fingerprint.js';
import { TapeReader } from '../tape/reader.js';
import type { IdMap } from './ids.js';
import type { Divergence, ReplayReport } from './report.js';

/** Collects what a replay run saw, and builds its report. */
export class Outcome {
  readonly divergences: Divergence[] = [];
  readonly notes: string[] = [];
  private readonly notesSeen = new Map<string, number>();
  private readonly t0 = performance.now();

  constructor(
    readonly tape: string,
    readonly mode: ReplayReport['mode'],
    readonly ids: IdMap,
  ) {}

  note = (line: string): void => {
    const n = this.notesSeen.get(line) ?? 0;
    this.notesSeen.set(line, n + 1);
    if (n === 0) this.notes.push(line);
  };

  /** `replayed`: seqs of the tape frames this run went through. */
  report(replayed: Iterable<number>): ReplayReport {
    const done = new Set(replayed);
    const tape = TapeReader.open(this.tape);
    const fp = new Fingerprint();
    let total = 0;
    try {
      for (const r of tape.rows()) {
        total++;
        if (done.has(r.seq)) fp.add(r.channel, r.dir, r.kind, r.hash);
      }
      const tapeFingerprint = tape.meta.fingerprint ?? '';
      const notes = this.notes.map((l) => (this.notesSeen.get(l)! > 1 ? `${l} (×${this.notesSeen.get(l)})` : l));
      return {
        tape: this.tape,
        mode: this.mode,
        ok: this.divergences.length === 0,
        tapeFingerprint,
        replayFingerprint: fp.digest(),
        frames: { total, replayed: fp.count },
        divergences: this.divergences,
        substitutions: [...this.ids.substitutions.values()],
        notes,
        durationMs: Math.round(performance.now() - this.t0),
      };
    } finally {
      tape.close();
    }
  }
}
