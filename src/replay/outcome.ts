import { specMismatch } from '../tape/spec-pin.js';
import { Fingerprint } from '../tape/fingerprint.js';
import { TapeReader } from '../tape/reader.js';
import type { IdMap } from './ids.js';
import type { Divergence, ReplayReport } from './report.js';
import type { ChannelScript } from './script.js';

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

  /**
   * `replayed`: the scripts this run went through (and HTTP frames served). One channel's
   * fingerprint was taken as it played; several are merged in seq order with one pass over the tape.
   */
  report(scripts: ChannelScript[], extra: number[] = []): ReplayReport {
    const tape = TapeReader.open(this.tape);
    let fp: Fingerprint;
    let total: number;
    try {
      if (scripts.length === 1 && !extra.length) {
        fp = scripts[0].fingerprint;
        total = tape.frameCount();
      } else {
        const served = new Set(extra);
        fp = new Fingerprint();
        total = 0;
        for (const r of tape.rows()) {
          total++;
          if (served.has(r.seq) || scripts.some((s) => s.consumed.has(r.seq))) fp.add(r.channel, r.dir, r.kind, r.hash);
        }
      }
      const tapeFingerprint = tape.meta.fingerprint ?? '';
      // A contract mismatch is visible, never silent: the tape was recorded against another spec text.
      const pin = specMismatch(this.tape, tape.meta.spec_sha256);
      if (pin) this.note(pin);
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
