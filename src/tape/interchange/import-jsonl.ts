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
  const t0 = first.mono_ms;
  const stdio = lines.some((l) => l.event === 'spawn' || l.kind === 'stdio.line');
  const channels = registerChannels(w, lines, stdio);
  for (const l of lines) {
    const ch = channels.get(connKey(l))!;
    const at = { monoUs: Math.round((l.mono_ms - t0) * 1000), wallMs: Date.parse(l.ts) };
    const data = l.raw_base64 !== undefined ? Buffer.from(l.raw_base64, 'base64') : Buffer.from(l.raw ?? '', 'utf8');
    if (l.dir === 'meta') {
      const kind = l.kind ? FrameKind.parse(l.kind) : (META_KIND[l.event ?? ''] ?? 'transport.error');
      // An exported event carries its exact bytes; a peer capture's is rebuilt from its fields.
      if (l.raw !== undefined || l.raw_base64 !== undefined) w.frame(ch, 'meta', kind, data, at);
      else {
        const detail: Record<string, unknown> = { event: l.event };
        for (const [k, v] of Object.entries(l)) if (!COMMON_FIELDS.includes(k)) detail[k] = v;
        w.event(ch, 'meta', kind, detail, at);
      }
      continue;
    }
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

const connKey = (l: CaptureLine): string => `${l.scenario}\u0000${l.conn}`;

/**
 * One channel per connection. An export names each connection's tape channel id: those ids are
 * kept (so the fingerprint is), with an empty channel for any id no line names. A capture
 * without ids gets them in order of first appearance.
 */
function registerChannels(w: TapeWriter, lines: CaptureLine[], stdio: boolean): Map<string, number> {
  const firsts = new Map<string, CaptureLine>();
  for (const l of lines) if (!firsts.has(connKey(l))) firsts.set(connKey(l), l);
  const order = [...firsts.values()].sort((a, b) => (a.channel_id ?? Infinity) - (b.channel_id ?? Infinity));
  const out = new Map<string, number>();
  for (const l of order) {
    while (l.channel_id !== undefined && w.channels + 1 < l.channel_id) w.channel('ws', '(no frames)');
    const kind: ChannelKind = l.channel ?? (l.kind?.startsWith('http.') ? 'http' : stdio ? 'stdio' : 'ws');
    out.set(connKey(l), w.channel(kind, l.conn, { scenario: l.scenario, conn: l.conn, url: typeof l.url === 'string' ? l.url : undefined }));
  }
  return out;
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
  if (r.data.kind !== undefined && !FrameKind.safeParse(r.data.kind).success) {
    throw new ToolError('E_INPUT', `${basename(source)} line ${n}: kind "${r.data.kind}" is not a frame kind`, `one of ${FrameKind.options.join(', ')}`);
  }
  if (r.data.dir !== 'meta' && r.data.raw === undefined && r.data.raw_base64 === undefined) {
    throw new ToolError('E_INPUT', `${basename(source)} line ${n} has no raw frame`, 'c2s and s2c lines carry "raw"');
  }
  return r.data;
}
