import { isUtf8 } from 'node:buffer';
import { codingsOf, canDecode, decodeBody, encodeBody, proportionalSizes } from './body-encoding.js';
import { FLAG, LARGE_FRAME, type FrameKind, type HeaderPairs } from './format.js';
import type { Redactor } from './redact.js';

/**
 * How an HTTP body is read for redaction, decided by its head's content type and encoding.
 * `encoded`: compressed with codings this process can undo; it is decoded whole, then read as
 * its content type says (`BodyReading.inner`).
 */
export const BODY_MODES = ['opaque', 'sse', 'json', 'text', 'encoded'] as const;
export type BodyMode = (typeof BODY_MODES)[number];
export type PlainMode = Exclude<BodyMode, 'encoded'>;

export interface BodyReading {
  mode: BodyMode;
  /** What the body is once decoded. */
  inner: PlainMode;
  codings: string[];
}

/** How the body after an HTTP head is read: by its content type, through its content codings. */
export function bodyReading(headers: HeaderPairs): BodyReading {
  let type = '';
  for (const [k, v] of headers) if (k.length === 12 && k.toLowerCase() === 'content-type') type ||= v;
  const inner: PlainMode = /event-stream/i.test(type) ? 'sse' : /json/i.test(type) ? 'json' : /^text\//i.test(type) ? 'text' : 'opaque';
  const codings = codingsOf(headers);
  return { mode: codings.length ? (canDecode(codings) ? 'encoded' : 'opaque') : inner, inner, codings };
}

export interface Checked {
  /** The bytes to store: `raw` itself unless a redaction rule changed them. */
  data: Buffer;
  flags: number;
  /** For HTTP heads: how the body after them is to be read. */
  mode?: BodyMode;
}

/**
 * Flags a frame (binary, invalid UTF-8, not JSON, large) and applies the redaction rules.
 * A pure function of the kind and the bytes (placeholders are stable), so the writer may
 * reuse a result for bytes it has seen before.
 */
export function checkFrame(redactor: Redactor, kind: FrameKind, raw: Buffer): Checked {
  const flags = raw.length >= LARGE_FRAME ? FLAG.large : 0;
  if (kind === 'ws.binary') return { data: raw, flags: flags | FLAG.binary };
  if (kind === 'ws.text' || kind === 'stdio.line') return checkText(redactor, raw, flags);
  if (kind === 'http.request' || kind === 'http.response') return checkHead(redactor, raw, flags);
  if (kind === 'transport.error' && redactor.active) return checkEvent(redactor, raw, flags);
  return { data: raw, flags };
}

/** A transport error line can quote a URL (an unreachable upstream): redacted as one. */
function checkEvent(redactor: Redactor, raw: Buffer, flags: number): Checked {
  const text = raw.toString('utf8');
  if (!redactor.mayMatchUrl(text)) return { data: raw, flags };
  const e = JSON.parse(text) as { error?: unknown };
  if (typeof e.error !== 'string') return { data: raw, flags };
  const error = redactor.url(e.error);
  return error === e.error ? { data: raw, flags } : { data: Buffer.from(JSON.stringify({ ...e, error })), flags: flags | FLAG.redacted };
}

function checkText(redactor: Redactor, raw: Buffer, flags: number): Checked {
  if (!isUtf8(raw)) return { data: raw, flags: flags | FLAG.invalidUtf8 };
  const text = raw.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    flags |= FLAG.notJson;
  }
  if (!redactor.active) return { data: raw, flags };
  return redacted(raw, text, parsed === undefined ? redactor.text(text) : redactor.json(text, parsed), flags);
}

function checkHead(redactor: Redactor, raw: Buffer, flags: number): Checked {
  const h = JSON.parse(raw.toString('utf8')) as { headers: HeaderPairs; path?: string; upstream?: string };
  const { mode } = bodyReading(h.headers);
  if (!redactor.active) return { data: raw, flags, mode };
  const r = redactor.headerPairs(h.headers);
  // A request's path and upstream URL: credential query values, and the regex rules.
  const path = h.path !== undefined && redactor.mayMatchUrl(h.path) ? redactor.url(h.path) : h.path;
  const upstream = h.upstream !== undefined && redactor.mayMatchUrl(h.upstream) ? redactor.url(h.upstream) : h.upstream;
  if (!r.changed && path === h.path && upstream === h.upstream) return { data: raw, flags, mode };
  return { data: Buffer.from(JSON.stringify({ ...h, headers: r.pairs, ...(path !== undefined ? { path } : {}), ...(upstream !== undefined ? { upstream } : {}) })), flags: flags | FLAG.redacted, mode };
}

/**
 * The chunks of one body row (`sizes` splits `whole`) with the rules applied, or undefined
 * when nothing changed. The row is searched once for anything a rule could match first.
 */
export function redactBody(redactor: Redactor, mode: PlainMode, whole: Buffer, sizes: number[]): Buffer[] | undefined {
  if (mode === 'opaque' || !redactor.active || !redactor.mayMatchBytes(whole)) return undefined;
  let off = 0;
  const chunks = sizes.map((n) => whole.subarray(off, (off += n)));
  const out = chunks.map((raw) => {
    if (!isUtf8(raw)) return raw;
    const text = raw.toString('utf8');
    const r = mode === 'sse' ? redactor.sse(text) : mode === 'json' ? jsonOrText(redactor, text) : redactor.text(text);
    return r === text ? raw : Buffer.from(r, 'utf8');
  });
  return out.some((c, i) => c !== chunks[i]) ? out : undefined;
}

/**
 * A compressed body (its whole row) decoded, redacted as its content type says and encoded
 * again the same way; undefined when nothing changed. The new bytes keep the chunk count and
 * times (`sizes` re-cut in proportion): see proportionalSizes.
 */
export function redactEncoded(redactor: Redactor, reading: BodyReading, whole: Buffer, sizes: number[]): { data: Buffer; sizes: number[] } | undefined {
  if (!redactor.active) return undefined;
  const d = decodeBody(whole, reading.codings);
  if (!d) return undefined;
  const r = redactBody(redactor, reading.inner, d.body, [d.body.length]);
  if (!r) return undefined;
  const data = encodeBody(r[0], d.how, d.truncated);
  return { data, sizes: proportionalSizes(sizes, data.length) };
}

function jsonOrText(redactor: Redactor, text: string): string {
  try {
    return redactor.json(text, JSON.parse(text));
  } catch {
    return redactor.text(text); // a chunk of a larger body: only the regex rules can apply
  }
}

function redacted(raw: Buffer, text: string, out: string, flags: number): Checked {
  return out === text ? { data: raw, flags } : { data: Buffer.from(out, 'utf8'), flags: flags | FLAG.redacted };
}
