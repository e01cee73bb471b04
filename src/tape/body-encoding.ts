import * as zlib from 'node:zlib';
import type { HeaderPairs } from './format.js';

/**
 * HTTP content codings (RFC 9110 §8.4): what the recorder's worker, `tape scan`, `tape show`,
 * HAR export and replay's matcher decode to look inside a body. The bytes forwarded and served
 * are never touched here; only a redacted body is encoded again.
 */
export type Coding = 'gzip' | 'deflate' | 'deflate-raw' | 'br' | 'zstd';

type Zstd = { zstdDecompressSync(b: Buffer, o?: object): Buffer; zstdCompressSync(b: Buffer): Buffer };
/** Node 22.15+ and 23.8+ have zstd; Node 20 does not, so zstd bodies stay opaque there. */
const zstd = typeof (zlib as unknown as Partial<Zstd>).zstdDecompressSync === 'function' ? (zlib as unknown as Zstd) : undefined;
export const ZSTD_AVAILABLE = zstd !== undefined;

/** The codings of a head's `content-encoding`, in the order they were applied (`identity` dropped). */
export function codingsOf(headers: HeaderPairs): string[] {
  const out: string[] = [];
  for (const [k, v] of headers) {
    if (k.length !== 16 || k.toLowerCase() !== 'content-encoding') continue;
    for (const c of v.split(',')) {
      const t = c.trim().toLowerCase();
      if (t && t !== 'identity') out.push(t === 'x-gzip' ? 'gzip' : t);
    }
  }
  return out;
}

/** Whether this process can decode every one of these codings. */
export const canDecode = (codings: string[]): boolean => codings.every((c) => c === 'gzip' || c === 'deflate' || c === 'br' || (c === 'zstd' && ZSTD_AVAILABLE));

export interface Decoded {
  body: Buffer;
  /** How it was encoded, outermost last, as `encode` must redo it (`deflate` may turn out raw). */
  how: Coding[];
  /** The encoded stream ended early (a cut response): `body` is what could be decoded of it. */
  truncated: boolean;
}

// Liberal in what is read: a stream cut mid-body decodes as far as it goes.
const PARTIAL = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
const PARTIAL_BR = { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH };

/** The body with its codings undone, or undefined when one is unknown here or the bytes are not what it says. */
export function decodeBody(data: Buffer, codings: string[]): Decoded | undefined {
  if (!canDecode(codings)) return undefined;
  let body = data;
  const how: Coding[] = [];
  let truncated = false;
  try {
    for (const c of [...codings].reverse()) {
      const step = decodeOne(body, c);
      body = step.body;
      how.unshift(step.how);
      truncated ||= step.truncated;
    }
  } catch {
    return undefined;
  }
  return { body, how, truncated };
}

function decodeOne(data: Buffer, coding: string): { body: Buffer; how: Coding; truncated: boolean } {
  const whole = (f: () => Buffer, partial: () => Buffer): { body: Buffer; truncated: boolean } => {
    try {
      return { body: f(), truncated: false };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'Z_BUF_ERROR' && !/unexpected end/i.test((e as Error).message)) throw e;
      return { body: partial(), truncated: true };
    }
  };
  if (coding === 'gzip') return { ...whole(() => zlib.gunzipSync(data), () => zlib.gunzipSync(data, PARTIAL)), how: 'gzip' };
  if (coding === 'br') return { ...whole(() => zlib.brotliDecompressSync(data), () => zlib.brotliDecompressSync(data, PARTIAL_BR)), how: 'br' };
  if (coding === 'zstd') return { body: zstd!.zstdDecompressSync(data), how: 'zstd', truncated: false };
  // `deflate` means the zlib format (RFC 1950), but servers often send raw deflate (RFC 1951).
  const raw = data.length > 0 && (data[0] & 0x0f) !== 8;
  if (!raw) {
    try {
      return { ...whole(() => zlib.inflateSync(data), () => zlib.inflateSync(data, PARTIAL)), how: 'deflate' };
    } catch {
      // not the zlib format after all
    }
  }
  return { ...whole(() => zlib.inflateRawSync(data), () => zlib.inflateRawSync(data, PARTIAL)), how: 'deflate-raw' };
}

/**
 * Encodes `body` the way `decodeBody` found it encoded. A `truncated` body is encoded without
 * its end (flushed, not finished), so it decodes as cut short again, as the client saw it.
 */
export function encodeBody(body: Buffer, how: Coding[], truncated = false): Buffer {
  let out = body;
  const z = truncated ? { finishFlush: zlib.constants.Z_SYNC_FLUSH } : {};
  for (const c of how) {
    if (c === 'gzip') out = zlib.gzipSync(out, z);
    else if (c === 'deflate') out = zlib.deflateSync(out, z);
    else if (c === 'deflate-raw') out = zlib.deflateRawSync(out, z);
    else if (c === 'br') out = zlib.brotliCompressSync(out, truncated ? { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH } : {});
    else out = zstd!.zstdCompressSync(out);
  }
  return out;
}

/**
 * `total` bytes cut into as many pieces as `sizes`, each the same share of the whole as its
 * counterpart: a re-encoded body keeps its chunk count and times, its bytes re-cut.
 */
export function proportionalSizes(sizes: number[], total: number): number[] {
  const was = sizes.reduce((a, b) => a + b, 0);
  if (sizes.length === 1 || was === 0) return [total, ...sizes.slice(1).map(() => 0)];
  const out: number[] = [];
  let used = 0;
  let seen = 0;
  for (let i = 0; i < sizes.length - 1; i++) {
    seen += sizes[i];
    const end = Math.floor((seen / was) * total);
    out.push(end - used);
    used = end;
  }
  out.push(total - used);
  return out;
}
