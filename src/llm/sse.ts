/** One server-sent event: its `event:` name (if any), its joined `data:` lines, and where it sat in the body. */
export interface SseEvent {
  event?: string;
  data: string;
  /** Byte offsets of the whole event in the body, its terminating blank line included. */
  start: number;
  end: number;
}

const LF = 0x0a;
const CR = 0x0d;

/** Where the line starting at `i` ends (after its terminator); -1 when the bytes so far cannot tell. */
function lineEnd(buf: Buffer, i: number): number {
  for (; i < buf.length; i++) {
    if (buf[i] === LF) return i + 1;
    if (buf[i] === CR) return i + 1 < buf.length ? (buf[i + 1] === LF ? i + 2 : i + 1) : -1;
  }
  return -1;
}

/** Where the blank line that ends the event starting at `from` finishes (exclusive); -1 if not yet there. */
function eventEnd(buf: Buffer, from: number): number {
  for (let i = from; ; ) {
    const next = lineEnd(buf, i);
    if (next < 0) return -1;
    if (next - i <= 2 && (buf[i] === LF || buf[i] === CR)) return next;
    i = next;
  }
}

function parseEvent(text: string, start: number, end: number): SseEvent | undefined {
  let event: string | undefined;
  const data: string[] = [];
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (!line || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (event === undefined && !data.length) return undefined;
  return { event, data: data.join('\n'), start, end };
}

/**
 * An incremental SSE parser over bytes: chunks may split events, lines and UTF-8 sequences
 * anywhere. Only complete events come out; `end()` flushes a last event without its blank line.
 */
export class SseParser {
  private buf: Buffer = Buffer.alloc(0);
  private offset = 0;

  push(chunk: Buffer): SseEvent[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: SseEvent[] = [];
    let from = 0;
    for (;;) {
      const end = eventEnd(this.buf, from);
      if (end < 0) break;
      const ev = parseEvent(this.buf.subarray(from, end).toString('utf8'), this.offset + from, this.offset + end);
      if (ev) out.push(ev);
      from = end;
    }
    if (from) {
      this.buf = this.buf.subarray(from);
      this.offset += from;
    }
    return out;
  }

  end(): SseEvent[] {
    const rest = this.buf;
    this.buf = Buffer.alloc(0);
    const ev = rest.length ? parseEvent(rest.toString('utf8'), this.offset, this.offset + rest.length) : undefined;
    this.offset += rest.length;
    return ev ? [ev] : [];
  }
}

/** Every event of a whole body. */
export function parseSse(body: Buffer): SseEvent[] {
  const p = new SseParser();
  return [...p.push(body), ...p.end()];
}

/** One event as bytes on the wire: `event:` line when named, one `data:` line per line of data. */
export function formatSse(e: { event?: string; data: string }): string {
  return `${e.event !== undefined ? `event: ${e.event}\n` : ''}${e.data
    .split('\n')
    .map((l) => `data: ${l}\n`)
    .join('')}\n`;
}
