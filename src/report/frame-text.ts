import { FLAG, type FrameKind } from '../tape/format.js';
import type { TapeFrame } from '../tape/reader.js';

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
/** Frames above this are summarised from their first bytes, never parsed whole. */
const PARSE_LIMIT = 256 * 1024;
const HEX_BYTES = 256;

/** A frame's bytes as text for the page: UTF-8 when they are, else a hex dump of the start. */
export function frameText(f: TapeFrame, max: number): string {
  if (f.flags & (FLAG.binary | FLAG.invalidUtf8) || f.kind === 'ws.binary') {
    const hex = f.data.subarray(0, HEX_BYTES).toString('hex').replace(/(..)/g, '$1 ').trim();
    return `(binary, ${f.size} bytes)\n${hex}${f.size > HEX_BYTES ? ' …' : ''}`;
  }
  // Decode only what can be kept: a 10 MB body costs its first few KB.
  return f.data.subarray(0, Math.min(f.data.length, max * 4)).toString('utf8');
}

/** One line saying what a frame is: the ARCP message type, the HTTP head, a body's size. */
export function frameSummary(f: TapeFrame): string {
  const kind: FrameKind = f.kind;
  try {
    if (kind === 'http.request') {
      const h = obj(JSON.parse(f.data.toString('utf8')));
      return `${str(h.method) ?? '?'} ${str(h.path) ?? '?'}`;
    }
    if (kind === 'http.response') return `HTTP ${String(obj(JSON.parse(f.data.toString('utf8'))).status ?? '?')}`;
    if (kind === 'http.request.body' || kind === 'http.response.body') {
      const parts = f.parts?.length ?? 1;
      return `${kind === 'http.request.body' ? 'request' : 'response'} body, ${f.size} bytes${f.flags & FLAG.sse ? `, SSE (${parts} chunk${parts === 1 ? '' : 's'})` : ''}`;
    }
    if (kind.startsWith('transport.') || kind === 'ws.close') {
      const e = f.size && f.size < 4096 ? obj(JSON.parse(f.data.toString('utf8'))) : {};
      const bits = [e.code, e.reason, e.error, e.client].filter((x) => x !== undefined && x !== '').map(String);
      return `${kind}${bits.length ? ` ${bits.join(' ')}` : ''}`;
    }
    if (f.size > PARSE_LIMIT || f.data[0] !== 0x7b) {
      const m = /"type"\s*:\s*"([^"]{1,64})"/.exec(f.data.subarray(0, 4096).toString('utf8'));
      return m ? `${m[1]} (${f.size} bytes)` : `${kind}, ${f.size} bytes`;
    }
    const m = obj(JSON.parse(f.data.toString('utf8')));
    const type = str(m.type) ?? '(no type)';
    const p = obj(m.payload);
    if (type === 'job.event') return `job.event ${str(p.kind) ?? '?'}${str(obj(p.body).tool) ? ` ${str(obj(p.body).tool)}` : ''}`;
    if (type === 'job.submit') return `job.submit ${str(p.agent) ?? ''}`.trim();
    if (type === 'job.error' || type === 'session.error') return `${type} ${str(p.code) ?? ''}`.trim();
    return type;
  } catch {
    return `${kind}, ${f.size} bytes (not JSON)`;
  }
}
