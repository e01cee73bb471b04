import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { ToolError } from '../../errors.js';
import { FrameKind, isBodyKind, type ChannelKind, type RedactionRules } from '../format.js';
import { defaultRules } from '../redact.js';
import { TapeWriter, type TapeSummary } from '../writer.js';
import { CaptureLine, COMMON_FIELDS, META_KIND } from './capture.js';

export interface ImportOptions {
  source: string;
  tape: string;
  force?: boolean;
  redaction?: RedactionRules;
  commandLine?: string[];
}

/**
 * Reads a capture (peer-capture JSONL, or a tape exported with --jsonl) into a new tape:
 * one channel per `conn`, each line's `raw` as the frame's exact bytes, meta lines as
 * transport events keeping their detail, original times kept.
 */
export async function importJsonl(o: ImportOptions): Promise<TapeSummary & { lines: number }> {
  let text: string;
  try {
    text = readFileSync(o.source, 'utf8');
  } catch (e) {
    throw new ToolError('E_INPUT', `cannot read ${o.source}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'check the path');
  }
  const lines = text.split('\n').flatMap((l, n) => (l.trim() ? [parseLine(o.source, l, n + 1)] : []));
  if (!lines.length) throw new ToolError('E_INPUT', `${o.source} holds no capture lines`, 'expected one JSON object per line, as in shared/fixtures/peer-captures');
  const first = lines[0];
  const w = await TapeWriter.create({ path: o.tape, force: o.force, commandLine: o.commandLine ?? ['arcp', 'tape', 'import', o.source], redaction: o.redaction ?? defaultRules(), startedAt: new Date(first.ts) });
  const channels = new Map<string, number>();
  const t0 = first.mono_ms;
  const stdio = lines.some((l) => l.event === 'spawn' || l.kind === 'stdio.line');
  for (const l of lines) {
    const key = `${l.scenario}\u0000${l.conn}`;
    let ch = channels.get(key);
    if (ch === undefined) {
      const kind: ChannelKind = l.channel ?? (l.kind?.startsWith('http.') ? 'http' : stdio ? 'stdio' : 'ws');
      ch = w.channel(kind, l.conn, { scenario: l.scenario, conn: l.conn, url: typeof l.url === 'string' ? l.url : undefined });
      channels.set(key, ch);
    }
    const at = { monoUs: Math.round((l.mono_ms - t0) * 1000), wallMs: Date.parse(l.ts) };
    if (l.dir === 'meta') {
      const detail: Record<string, unknown> = { event: l.event };
      for (const [k, v] of Object.entries(l)) if (!COMMON_FIELDS.includes(k)) detail[k] = v;
      const kind = l.kind ? FrameKind.parse(l.kind) : (META_KIND[l.event ?? ''] ?? 'transport.error');
      w.event(ch, 'meta', kind, detail, at);
      continue;
    }
    const data = l.raw_base64 !== undefined ? Buffer.from(l.raw_base64, 'base64') : Buffer.from(l.raw ?? '', 'utf8');
    const kind = l.kind ? FrameKind.parse(l.kind) : stdio ? 'stdio.line' : 'ws.text';
    if (!isBodyKind(kind)) {
      w.frame(ch, l.dir, kind, data, at);
      continue;
    }
    // A body line is one tape row: its parts (if any) go back in as the chunks they were.
    let off = 0;
    (l.parts ?? [[data.length, l.mono_ms]]).forEach(([size, mono], k) => {
      w.frame(ch, l.dir as 'c2s' | 's2c', kind, data.subarray(off, (off += size)), { monoUs: Math.round((mono - t0) * 1000), wallMs: at.wallMs, part: k === 0 ? 'first' : 'next' });
    });
  }
  const summary = await w.close();
  return { ...summary, lines: lines.length };
}

function parseLine(source: string, line: string, n: number): CaptureLine {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (e) {
    throw new ToolError('E_INPUT', `${basename(source)} line ${n} is not JSON: ${(e as Error).message}`, 'a capture holds one JSON object per line');
  }
  const r = CaptureLine.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ToolError('E_INPUT', `${basename(source)} line ${n} is not a capture line: ${i.path.join('.') || 'line'}: ${i.message}`, 'see shared/fixtures/peer-captures/README.md for the format');
  }
  if (r.data.dir !== 'meta' && r.data.raw === undefined && r.data.raw_base64 === undefined) {
    throw new ToolError('E_INPUT', `${basename(source)} line ${n} has no raw frame`, 'c2s and s2c lines carry "raw"');
  }
  return r.data;
}
