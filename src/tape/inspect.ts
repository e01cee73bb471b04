import { isUtf8 } from 'node:buffer';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ToolError } from '../errors.js';
import { flagNames, isBodyKind, RequestHead, ResponseHead, type ChannelRow, type FrameRow, type TapeMeta } from './format.js';
import { TapeReader, type TapeFrame } from './reader.js';

export interface TapeListing {
  path: string;
  bytes: number;
  /** Why the file is not readable as a tape, if it is not. */
  error?: string;
  started_at?: string;
  ended_at?: string;
  frames?: number;
  channels?: number;
  fingerprint?: string;
  parent?: string;
}

/** Every `.tape` file in a folder, newest first, each with its headline. */
export function listTapes(dir: string): TapeListing[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.tape'));
  } catch (e) {
    throw new ToolError('E_INPUT', `cannot list ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'name a folder that holds .tape files');
  }
  return names
    .map((n) => {
      const path = join(dir, n);
      const bytes = statSync(path).size;
      try {
        const t = TapeReader.open(path);
        try {
          const m = t.meta;
          return { path, bytes, started_at: m.started_at, ended_at: m.ended_at, frames: m.frame_count ?? t.frameCount(), channels: t.channels().length, fingerprint: m.fingerprint, parent: m.lineage?.parent };
        } finally {
          t.close();
        }
      } catch (e) {
        return { path, bytes, error: (e as Error).message };
      }
    })
    .sort((a, b) => (b.started_at ?? '').localeCompare(a.started_at ?? ''));
}

export interface ChannelSummary extends ChannelRow {
  frames: number;
  bytes: number;
}

export interface TimelineRow extends FrameRow {
  /** What the frame is: the ARCP message type (and event kind), the HTTP line, or the transport event. */
  what: string;
  flagNames: string[];
}

export interface TapeView {
  path: string;
  meta: TapeMeta;
  /** The recorder writing the tape now, if any. */
  live?: { pid: number; started_at: string };
  channels: ChannelSummary[];
  timeline: Iterable<TimelineRow>;
  close(): void;
}

/** A tape's header, channels and a streamed timeline (optionally one channel, a seq range, a limit). */
export function showTape(path: string, q: { channel?: number; fromSeq?: number; limit?: number; filter?: (f: TapeFrame) => boolean } = {}): TapeView {
  const tape = TapeReader.open(path);
  const counts = new Map<number, { frames: number; bytes: number }>();
  for (const r of tape.rows()) {
    const c = counts.get(r.channel) ?? { frames: 0, bytes: 0 };
    c.frames++;
    c.bytes += r.size;
    counts.set(r.channel, c);
  }
  const channels = tape.channels().map((c) => ({ ...c, ...(counts.get(c.id) ?? { frames: 0, bytes: 0 }) }));
  function* timeline(): Generator<TimelineRow> {
    let n = 0;
    for (const f of tape.frames({ channel: q.channel, fromSeq: q.fromSeq })) {
      if (q.filter && !q.filter(f)) continue;
      if (q.limit !== undefined && n++ >= q.limit) return;
      const { data: _data, ...row } = f;
      yield { ...row, what: describeFrame(f), flagNames: flagNames(f.flags) };
    }
  }
  return { path, meta: tape.meta, live: tape.live, channels, timeline: timeline(), close: () => tape.close() };
}

/** A short description of one frame, for timelines and divergence reports. */
export function describeFrame(f: TapeFrame): string {
  const text = isUtf8(f.data) ? f.data.toString('utf8') : undefined;
  if (f.kind === 'ws.binary') return `binary ${f.size} B`;
  if (text === undefined) return 'invalid UTF-8';
  try {
    switch (f.kind) {
      case 'http.request': {
        const h = RequestHead.parse(JSON.parse(text));
        return `${h.method} ${h.path}`;
      }
      case 'http.response':
        return `${ResponseHead.parse(JSON.parse(text)).status}`;
      case 'ws.text':
      case 'stdio.line': {
        const m = JSON.parse(text) as { type?: unknown; payload?: { kind?: unknown }; event_seq?: unknown };
        const kind = m.type === 'job.event' && typeof m.payload?.kind === 'string' ? ` ${m.payload.kind}` : '';
        const seq = typeof m.event_seq === 'number' ? ` #${m.event_seq}` : '';
        return typeof m.type === 'string' ? `${m.type}${kind}${seq}` : 'JSON without type';
      }
      default:
        if (isBodyKind(f.kind)) return sseEvents(text) ?? `body ${f.size} B`;
        return f.kind.startsWith('transport.') || f.kind === 'ws.close' ? `${f.kind.replace('transport.', '')} ${text === '{}' ? '' : text}`.trim() : f.kind;
    }
  } catch {
    return 'not JSON';
  }
}

/** `event: delta ×3` style summary of the SSE events a body chunk holds, if any. */
function sseEvents(text: string): string | undefined {
  const events = text.split(/\r?\n\r?\n/).filter((e) => /^(data|event|id):/m.test(e));
  if (!events.length) return undefined;
  const names = events.map((e) => /^event: ?(.*)$/m.exec(e)?.[1] ?? 'message');
  const first = names[0];
  return names.every((n) => n === first) ? `sse ${first}${names.length > 1 ? ` ×${names.length}` : ''}` : `sse ${names.join(', ')}`;
}
