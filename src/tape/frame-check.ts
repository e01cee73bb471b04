import { isUtf8 } from 'node:buffer';
import { FLAG, LARGE_FRAME, type FrameKind, type HeaderPairs } from './format.js';
import type { Redactor } from './redact.js';

/** How an HTTP body is read for redaction, decided by its head's content type and encoding. */
export const BODY_MODES = ['opaque', 'sse', 'json', 'text'] as const;
export type BodyMode = (typeof BODY_MODES)[number];

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
  return { data: raw, flags };
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
  const h = JSON.parse(raw.toString('utf8')) as { headers: HeaderPairs };
  let type = '';
  let encoded = false;
  for (const [k, v] of h.headers) {
    if (k.length !== 12 && k.length !== 16) continue; // content-type, content-encoding
    const name = k.toLowerCase();
    if (name === 'content-type') type ||= v;
    else if (name === 'content-encoding' && v !== 'identity') encoded = true;
  }
  const mode: BodyMode = encoded ? 'opaque' : /event-stream/i.test(type) ? 'sse' : /json/i.test(type) ? 'json' : /^text\//i.test(type) ? 'text' : 'opaque';
  if (!redactor.active) return { data: raw, flags, mode };
  const r = redactor.headerPairs(h.headers);
  if (!r.changed) return { data: raw, flags, mode };
  return { data: Buffer.from(JSON.stringify({ ...h, headers: r.pairs })), flags: flags | FLAG.redacted, mode };
}

/**
 * The chunks of one body row (`sizes` splits `whole`) with the rules applied, or undefined
 * when nothing changed. The row is searched once for anything a rule could match first.
 */
export function redactBody(redactor: Redactor, mode: BodyMode, whole: Buffer, sizes: number[]): Buffer[] | undefined {
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
