import { codingsOf, decodeBody } from './body-encoding.js';
import { chunksOf, RequestHead, ResponseHead, TransportEvent, type HeaderPairs } from './format.js';
import type { TapeReader } from './reader.js';

/** One HTTP channel of a tape, gathered: what replay, HAR export and `tape show` read. */
export interface RecordedExchange {
  channel: number;
  seqs: number[];
  /** Wall-clock ms of its first frame. */
  startedMs: number;
  request?: RequestHead;
  requestAtUs?: number;
  requestBody: Buffer;
  response?: ResponseHead;
  responseAtUs?: number;
  /** Response body chunks as they arrived. */
  chunks: { data: Buffer; monoUs: number }[];
  endAtUs?: number;
  /** How the exchange ended: `transport.close` or `transport.error` and its JSON (see docs/tape-format.md). */
  end?: { kind: 'close' | 'error'; event: TransportEvent };
  /** The flags of its body rows, or'ed. */
  bodyFlags: number;
}

/** The tape's HTTP exchanges in channel order (optionally only `channels`), bodies in memory. */
export function readExchanges(tape: TapeReader, channels?: Set<number>): RecordedExchange[] {
  const http = channels ?? new Set(tape.channels().filter((c) => c.kind === 'http').map((c) => c.id));
  const by = new Map<number, RecordedExchange>();
  for (const f of tape.frames()) {
    if (!http.has(f.channel)) continue;
    let e = by.get(f.channel);
    if (!e) by.set(f.channel, (e = { channel: f.channel, seqs: [], startedMs: f.wall_ms, requestBody: Buffer.alloc(0), chunks: [], bodyFlags: 0 }));
    e.seqs.push(f.seq);
    e.endAtUs = f.parts ? f.parts[f.parts.length - 1][1] : f.mono_us;
    switch (f.kind) {
      case 'http.request':
        e.request = RequestHead.parse(JSON.parse(f.data.toString('utf8')));
        e.requestAtUs = f.mono_us;
        break;
      case 'http.request.body':
        e.requestBody = e.requestBody.length ? Buffer.concat([e.requestBody, f.data]) : f.data;
        break;
      case 'http.response':
        e.response = ResponseHead.parse(JSON.parse(f.data.toString('utf8')));
        e.responseAtUs = f.mono_us;
        break;
      case 'http.response.body':
        e.bodyFlags |= f.flags;
        for (const c of chunksOf(f)) e.chunks.push({ data: c.data, monoUs: c.mono_us });
        break;
      case 'transport.close':
      case 'transport.error':
        e.end = { kind: f.kind === 'transport.close' ? 'close' : 'error', event: TransportEvent.parse(JSON.parse(f.data.toString('utf8'))) };
        break;
    }
  }
  return [...by.values()].sort((a, b) => a.channel - b.channel);
}

export const header = (pairs: HeaderPairs, name: string): string | undefined => pairs.find(([k]) => k.toLowerCase() === name)?.[1];

export interface ReadableBody {
  /** The body with its content codings undone (the bytes themselves when it had none, or they could not be undone). */
  data: Buffer;
  /** The codings it was sent with (`content-encoding`). */
  codings: string[];
  /** True when the codings were undone; false when there were none or this process cannot undo them (zstd before Node 22.15). */
  decoded: boolean;
  truncated: boolean;
}

/** A body as a person or a matcher reads it: decompressed per its head's `content-encoding`. */
export function readableBody(headers: HeaderPairs, body: Buffer): ReadableBody {
  const codings = codingsOf(headers);
  if (!codings.length || !body.length) return { data: body, codings, decoded: false, truncated: false };
  const d = decodeBody(body, codings);
  return d ? { data: d.body, codings, decoded: true, truncated: d.truncated } : { data: body, codings, decoded: false, truncated: false };
}
