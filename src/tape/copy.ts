import { renameSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { ToolError } from '../errors.js';
import { codingsOf } from './body-encoding.js';
import { chunksOf, isBodyKind, isHeadKind, type HeaderPairs, type RedactionRules, type TapeMeta } from './format.js';
import { TapeReader } from './reader.js';
import { defaultRules } from './redact.js';
import { TapeWriter, type TapeSummary } from './writer.js';

/**
 * Writes `from`'s frames (every channel but `skip`) into `to`, in seq order, times shifted by
 * `offsetUs`; body rows keep their chunks and times (their parts), and the rows of one
 * compressed body become one (it can only be decoded, so redacted, whole). The writer redacts
 * them again by its rules, so a copy is also how rules are applied after recording.
 */
export async function copyFrames(from: TapeReader, to: TapeWriter, o: { skip?: Set<number>; offsetUs?: number } = {}): Promise<number> {
  const off = o.offsetUs ?? 0;
  const channels = new Map(from.channels().map((c) => [c.id, c]));
  const ids = new Map<number, number>();
  /** Body keys (request: negated channel) whose head has content codings: their rows join into one, to be decoded whole. */
  const encoded = new Set<number>();
  let lastBody: { channel: number; kind: string } | undefined;
  let n = 0;
  for (const f of from.frames()) {
    if (o.skip?.has(f.channel)) continue;
    let id = ids.get(f.channel);
    if (id === undefined) {
      const c = channels.get(f.channel);
      id = to.channel(c?.kind ?? 'http', c?.label ?? '', c?.info ?? {});
      ids.set(f.channel, id);
    }
    const key = f.kind === 'http.request' || f.kind === 'http.request.body' ? -f.channel : f.channel;
    if (isHeadKind(f.kind)) {
      if (codingsOf((JSON.parse(f.data.toString('utf8')) as { headers: HeaderPairs }).headers).length) encoded.add(key);
      else encoded.delete(key);
    }
    if (!isBodyKind(f.kind)) to.frame(id, f.dir, f.kind, f.data, { monoUs: f.mono_us + off, wallMs: f.wall_ms });
    else {
      const joins = encoded.has(key) && lastBody?.channel === f.channel && lastBody.kind === f.kind;
      chunksOf(f).forEach((c, k) => to.frame(id, f.dir, f.kind, c.data, { monoUs: c.mono_us + off, wallMs: f.wall_ms, part: k === 0 && !joins ? 'first' : 'next' }));
    }
    lastBody = isBodyKind(f.kind) ? { channel: f.channel, kind: f.kind } : undefined;
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
  /** Where the new tape comes from, when it is a new tape (`out`); the base's lineage otherwise. */
  lineage?: TapeMeta['lineage'];
}

/** A tape written anew from one (less `skip`) and another appended: how record-if-missing, update and `tape redact` change a tape. */
export async function rewriteTape(o: RewriteOptions): Promise<TapeSummary> {
  if (o.out && resolve(o.out) === resolve(o.tape)) throw new ToolError('E_USAGE', `--out ${o.out} is the tape being read`, 'write the new tape to another path');
  const base = TapeReader.open(o.tape);
  const extra = o.append ? TapeReader.open(o.append) : undefined;
  const target = o.out ?? `${o.tape}.rewrite-${process.pid}`;
  let summary: TapeSummary;
  try {
    const startedAt = new Date(base.meta.started_at);
    const w = await TapeWriter.create({ path: target, pathFlag: '--out', force: o.force || !o.out, commandLine: o.commandLine ?? base.meta.command_line, redaction: o.redaction ?? defaultRules(), lineage: o.lineage ?? base.meta.lineage ?? undefined, startedAt });
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

/** `arcp tape redact`: the tape through these rules into a new one, which records where it came from. */
export async function redactTape(tape: string, out: string, rules: RedactionRules, o: { force?: boolean; commandLine?: string[] } = {}): Promise<TapeSummary> {
  const r = TapeReader.open(tape);
  const parent = { parent: tape, parent_fingerprint: r.meta.fingerprint, note: 'arcp tape redact' };
  r.close();
  return rewriteTape({ tape, out, force: o.force, redaction: rules, commandLine: o.commandLine, lineage: parent });
}
