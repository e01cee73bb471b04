import { renameSync, rmSync } from 'node:fs';
import { chunksOf, isBodyKind, type RedactionRules } from './format.js';
import { TapeReader } from './reader.js';
import { defaultRules } from './redact.js';
import { TapeWriter, type TapeSummary } from './writer.js';

/**
 * Writes `from`'s frames (every channel but `skip`) into `to`, in seq order, times shifted by
 * `offsetUs`; body rows keep their chunks and times (their parts). The writer redacts them
 * again by its rules, so a copy is also how rules are applied after recording.
 */
export async function copyFrames(from: TapeReader, to: TapeWriter, o: { skip?: Set<number>; offsetUs?: number } = {}): Promise<number> {
  const off = o.offsetUs ?? 0;
  const channels = new Map(from.channels().map((c) => [c.id, c]));
  const ids = new Map<number, number>();
  let n = 0;
  for (const f of from.frames()) {
    if (o.skip?.has(f.channel)) continue;
    let id = ids.get(f.channel);
    if (id === undefined) {
      const c = channels.get(f.channel);
      id = to.channel(c?.kind ?? 'http', c?.label ?? '', c?.info ?? {});
      ids.set(f.channel, id);
    }
    if (!isBodyKind(f.kind)) to.frame(id, f.dir, f.kind, f.data, { monoUs: f.mono_us + off, wallMs: f.wall_ms });
    else chunksOf(f).forEach((c, k) => to.frame(id, f.dir, f.kind, c.data, { monoUs: c.mono_us + off, wallMs: f.wall_ms, part: k === 0 ? 'first' : 'next' }));
    // A long tape must not pile up in the writer's memory.
    if (++n % 4096 === 0 && to.congested) await new Promise<void>((r) => to.afterDrain(r));
  }
  return ids.size;
}

export interface RewriteOptions {
  /** The tape to rewrite; replaced in place (atomically) unless `out` is given. */
  tape: string;
  out?: string;
  force?: boolean;
  /** Its channels to leave out. */
  skip?: Set<number>;
  /** A second tape whose channels are appended, at their own times after the first's start. */
  append?: string;
  redaction?: RedactionRules;
  commandLine?: string[];
}

/** A tape written anew from one (less `skip`) and another appended: how record-if-missing, update and `tape redact` change a tape. */
export async function rewriteTape(o: RewriteOptions): Promise<TapeSummary> {
  const base = TapeReader.open(o.tape);
  const extra = o.append ? TapeReader.open(o.append) : undefined;
  const target = o.out ?? `${o.tape}.rewrite-${process.pid}`;
  let summary: TapeSummary;
  try {
    const startedAt = new Date(base.meta.started_at);
    const w = await TapeWriter.create({ path: target, force: o.force || !o.out, commandLine: o.commandLine ?? base.meta.command_line, redaction: o.redaction ?? defaultRules(), lineage: base.meta.lineage ?? undefined, startedAt });
    try {
      await copyFrames(base, w, { skip: o.skip });
      if (extra) await copyFrames(extra, w, { offsetUs: (Date.parse(extra.meta.started_at) - startedAt.getTime()) * 1000 });
    } catch (e) {
      await w.close().catch(() => undefined);
      throw e;
    }
    summary = await w.close();
  } catch (e) {
    if (!o.out) rmSync(target, { force: true });
    throw e;
  } finally {
    base.close();
    extra?.close();
  }
  if (!o.out) {
    renameSync(target, o.tape);
    summary = { ...summary, path: o.tape };
  }
  return summary;
}
