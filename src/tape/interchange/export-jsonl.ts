import { isUtf8 } from 'node:buffer';
import { basename } from 'node:path';
import { isMessageKind } from '../format.js';
import { TapeReader } from '../reader.js';
import { COMMON_FIELDS, META_KIND } from './capture.js';

/** Fields of a meta line that a transport event's detail must not overwrite. */
const RESERVED = [...COMMON_FIELDS, 'frame'];

function parseObject(data: Buffer): Record<string, unknown> {
  try {
    const v = JSON.parse(data.toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return {}; // a transport event that is not JSON: `raw` carries it
  }
}

/** JSON text on one line: as it is, or re-serialised when it spans lines (`null` if too deep to). */
function oneLine(json: string): string {
  if (!/[\r\n\u2028\u2029]/.test(json)) return json;
  try {
    return JSON.stringify(JSON.parse(json));
  } catch {
    return 'null';
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Writes a tape as capture-format JSONL, a line per frame, streamed. Re-importing it gives the same fingerprint. */
export function* exportJsonl(path: string): Generator<string> {
  const tape = TapeReader.open(path);
  try {
    const channels = new Map(tape.channels().map((c) => [c.id, c]));
    const stem = basename(path).replace(/\.tape$/, '');
    const named = new Set<number>();
    for (const f of tape.frames()) {
      const c = channels.get(f.channel);
      const line: Record<string, unknown> = {
        i: f.seq - 1,
        ts: new Date(f.wall_ms).toISOString(),
        mono_ms: f.mono_us / 1000,
        scenario: c?.info.scenario ?? stem,
        conn: c?.info.conn ?? String(f.channel),
        dir: f.dir,
      };
      // The first line of each connection says what kind of channel it is, and its id (import keeps the ids, so the fingerprint).
      if (!named.has(f.channel)) {
        named.add(f.channel);
        line.channel = c?.kind;
        line.channel_id = f.channel;
      }
      if (f.dir === 'meta') {
        // The event and its detail for people; `raw` for import, which must rebuild the exact bytes.
        const detail = parseObject(f.data);
        const event = typeof detail.event === 'string' ? detail.event : f.kind.replace('transport.', '');
        line.event = event;
        if (META_KIND[event] !== f.kind) line.kind = f.kind;
        for (const [k, v] of Object.entries(detail)) if (!(k in line) && !RESERVED.includes(k)) line[k] = v;
        if (isUtf8(f.data)) line.raw = f.data.toString('utf8');
        else line.raw_base64 = f.data.toString('base64');
      } else {
        // `kind` only where import would not infer it: plain lines are ws.text.
        if (f.kind !== 'ws.text') line.kind = f.kind;
        if (f.parts) line.parts = f.parts.map(([size, mono]) => [size, mono / 1000]);
        if (f.kind !== 'ws.binary' && isUtf8(f.data)) {
          line.raw = f.data.toString('utf8');
          // `frame` is the raw text itself when it is JSON: never re-serialised, so a frame nested
          // 100k deep (which JSON.stringify cannot write) exports like any other.
          if (isMessageKind(f.kind) && isJson(line.raw as string)) {
            yield `${JSON.stringify(line).slice(0, -1)},"frame":${oneLine(line.raw as string)}}`;
            continue;
          }
        } else line.raw_base64 = f.data.toString('base64');
      }
      yield JSON.stringify(line);
    }
  } finally {
    tape.close();
  }
}
