import { specMismatch } from '../tape/spec-pin.js';
import { Fingerprint } from '../tape/fingerprint.js';
import { TapeReader } from '../tape/reader.js';
import { gapLine } from '../tape/verify.js';
import { ToolError } from '../errors.js';
import type { IdMap } from './ids.js';
import type { Divergence, ReplayReport, Substitution } from './report.js';
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
    /** Other values replaced in what replay sent (echoed live values, shifted timestamps). */
    private readonly others: { substitutions: Map<string, Substitution> }[] = [],
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
  report(scripts: ChannelScript[], extra: number[] = [], incomplete?: string): ReplayReport {
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
      // Every frame went through and hashed to its name, yet the log is not the one sealed: rows were changed with their hashes.
      if (tapeFingerprint && fp.count === total && fp.digest() !== tapeFingerprint) {
        throw new ToolError('E_TAPE_CORRUPT', `${this.tape}: its frames give fingerprint ${fp.digest()}, but the tape was sealed with ${tapeFingerprint}: it was changed after recording`, '`arcp tape verify` says what; restore a copy, or re-record');
      }
      for (const g of tape.meta.gaps ?? []) this.note(`the tape has a gap: ${gapLine(g)}; what was played around it may differ from what crossed`);
      // A contract mismatch is visible, never silent: the tape was recorded against another spec text.
      const pin = specMismatch(this.tape, tape.meta.spec_sha256);
      if (pin) this.note(pin);
      const notes = this.notes.map((l) => (this.notesSeen.get(l)! > 1 ? `${l} (×${this.notesSeen.get(l)})` : l));
      return {
        tape: this.tape,
        mode: this.mode,
        ok: this.divergences.length === 0 && !incomplete,
        ...(incomplete ? { incomplete } : {}),
        tapeFingerprint,
        replayFingerprint: fp.digest(),
        frames: { total, replayed: fp.count },
        divergences: this.divergences,
        substitutions: [...[...this.ids.substitutions.values()].map((s) => ({ ...s, kind: 'id' as const })), ...this.others.flatMap((o) => [...o.substitutions.values()])],
        notes,
        durationMs: Math.round(performance.now() - this.t0),
      };
    } finally {
      tape.close();
    }
  }
}
