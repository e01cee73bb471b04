import { chunksOf, isBodyKind, type Lineage, type RedactionRules } from '../tape/format.js';
import { TapeReader } from '../tape/reader.js';
import { TapeWriter, type TapeSummary } from '../tape/writer.js';
import type { EditedStep } from './edit.js';
import type { Step } from './steps.js';

export interface CopyOptions {
  parent: string;
  out: string;
  force?: boolean;
  step: Step;
  edited: EditedStep;
  /** Copy the parent's frames after the step too (a runtime frame edited for a client under test). */
  keepRest: boolean;
  lineage: Lineage;
  commandLine: string[];
  redaction: RedactionRules;
}

/**
 * Writes a fork without running anything: the parent's frames before the step exactly as
 * recorded (bytes, rows, times, so the prefix fingerprints the same), the edited step in its
 * place, and with `keepRest` the parent's frames after it unchanged.
 */
export async function writeForkCopy(o: CopyOptions): Promise<TapeSummary> {
  const r = TapeReader.open(o.parent);
  try {
    const inStep = new Set(o.step.exchange?.seqs ?? [o.step.seq]);
    const keep = (seq: number) => seq < o.step.seq || inStep.has(seq) || o.keepRest;
    const used = new Set<number>();
    for (const f of r.rows()) if (keep(f.seq)) used.add(f.channel);
    const writer = await TapeWriter.create({ path: o.out, pathFlag: '--out', force: o.force, commandLine: o.commandLine, redaction: o.redaction, lineage: o.lineage });
    // Channel ids are given in order: registering every parent channel up to the last one used keeps them the parent's.
    const last = Math.max(0, ...used);
    for (const c of r.channels()) if (c.id <= last) writer.channel(c.kind, c.label, c.info);
    let bodyDone = false;
    for (const f of r.frames()) {
      if (!keep(f.seq)) continue;
      const at = { monoUs: f.mono_us, wallMs: f.wall_ms };
      const edited = inStep.has(f.seq) ? o.edited : undefined;
      if (edited?.kind === 'frame') {
        writer.frame(f.channel, f.dir, f.kind, edited.data, at);
      } else if (edited?.kind === 'exchange' && f.kind === 'http.response') {
        writer.event(f.channel, f.dir, f.kind, edited.response, at);
      } else if (edited?.kind === 'exchange' && f.kind === 'http.response.body') {
        if (bodyDone) continue;
        bodyDone = true;
        edited.chunks.forEach((c, i) => writer.frame(f.channel, 's2c', 'http.response.body', c.data, { monoUs: c.mono_us, wallMs: f.wall_ms, part: i ? 'next' : 'first' }));
      } else if (isBodyKind(f.kind)) {
        chunksOf(f).forEach((c, i) => writer.frame(f.channel, f.dir, f.kind, c.data, { monoUs: c.mono_us, wallMs: f.wall_ms, part: i ? 'next' : 'first' }));
      } else writer.frame(f.channel, f.dir, f.kind, f.data, at);
    }
    return await writer.close();
  } finally {
    r.close();
  }
}
