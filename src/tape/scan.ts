import { isUtf8 } from 'node:buffer';
import { codingsOf, decodeBody } from './body-encoding.js';
import { defaultRules, DEFAULT_HEADERS, DEFAULT_POINTERS, PLACEHOLDER, Redactor } from './redact.js';
import { parsePointer, stringsAt } from '../json/pointer.js';
import { isBodyKind, isHeadKind, isMessageKind, type HeaderPairs } from './format.js';
import { TapeReader, type TapeFrame } from './reader.js';

export interface Finding {
  seq: number;
  channel: number;
  kind: string;
  /** Which rule matched: a pattern name, a JSON pointer or a header. */
  rule: string;
  /** The secret, masked: its first and last characters and its length. */
  preview: string;
}

/** Strings that look like credentials wherever they appear. */
export const SECRET_PATTERNS: [string, RegExp][] = [
  ['bearer token', /\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/g],
  ['OpenAI/Anthropic-style key', /\bsk-(?:ant-|proj-|live-)?[A-Za-z0-9_-]{16,}/g],
  ['AWS access key', /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g],
  ['GitHub token', /\bgh[pousr]_[A-Za-z0-9]{36,}\b/g],
  ['Slack token', /\bxox[abprs]-[A-Za-z0-9-]{10,}/g],
  ['Google API key', /\bAIza[0-9A-Za-z_-]{35}\b/g],
  ['JWT', /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g],
  ['private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/g],
];

export const mask = (s: string): string => (s.length <= 8 ? `${'*'.repeat(s.length)} (${s.length} chars)` : `${s.slice(0, 4)}…${s.slice(-2)} (${s.length} chars)`);

/** Secret-looking strings left in a tape: the default redaction fields in clear, and known token shapes. */
export function scanTape(path: string): { path: string; frames: number; findings: Finding[] } {
  const tape = TapeReader.open(path);
  const pointers = DEFAULT_POINTERS.map((p) => [p, parsePointer(p)] as const);
  const findings: Finding[] = [];
  /** Only to find credential query parameters and URL passwords: the default rules' view of a URL. */
  const urlRules = new Redactor(defaultRules());
  let frames = 0;
  const bodies = new CompressedBodies((f, data) => scanText(f, data));
  function scanText(f: TapeFrame, data: Buffer): void {
    if (!isUtf8(data)) return;
    const text = data.toString('utf8');
    const found = (rule: string, secret: string) => {
      if (!PLACEHOLDER.test(secret)) findings.push({ seq: f.seq, channel: f.channel, kind: f.kind, rule, preview: mask(secret) });
    };
    if (isMessageKind(f.kind) && text.startsWith('{')) {
      try {
        const doc = JSON.parse(text);
        for (const [p, t] of pointers) for (const v of stringsAt(doc, t)) if (v) found(p, v);
      } catch {
        // not JSON: the patterns below still apply
      }
    }
    if (isHeadKind(f.kind)) {
      const head = JSON.parse(text) as { headers?: [string, string][]; path?: string; upstream?: string };
      for (const [k, v] of head.headers ?? []) if (DEFAULT_HEADERS.includes(k.toLowerCase())) found(`header ${k.toLowerCase()}`, v);
      for (const u of [head.path, head.upstream]) for (const q of urlRules.credentialParams(u ?? '')) found(`query ${q.name}`, q.value);
    }
    if (f.kind === 'transport.error') for (const q of urlRules.credentialParams(text)) found(`query ${q.name}`, q.value);
    for (const [name, re] of SECRET_PATTERNS) for (const m of text.matchAll(re)) found(name, m[0]);
  }
  try {
    for (const f of tape.frames()) {
      frames++;
      if (!bodies.take(f)) scanText(f, f.data);
    }
    bodies.flush();
    // Said, rather than called clean: nothing in these was looked at.
    for (const u of bodies.unreadable) findings.push({ seq: u.row.seq, channel: u.row.channel, kind: u.row.kind, rule: 'body not inspected', preview: u.why });
    const seen = new Set<string>();
    const outside = (channel: number, kind: string, rule: string, secret: string) => {
      const key = `${channel} ${rule} ${secret}`; // a channel's label and URL repeat each other
      if (PLACEHOLDER.test(secret) || seen.has(key)) return;
      seen.add(key);
      findings.push({ seq: 0, channel, kind, rule, preview: mask(secret) });
    };
    /** A URL, label or command line: credential query parameters and known key shapes. */
    const urlText = (channel: number, kind: string, text: string) => {
      for (const q of urlRules.credentialParams(text)) outside(channel, kind, `query ${q.name}`, q.value);
      for (const [name, re] of SECRET_PATTERNS) for (const m of text.matchAll(re)) outside(channel, kind, name, m[0]);
    };
    for (const c of tape.channels()) {
      for (const [k, v] of c.info.headers ?? []) if (DEFAULT_HEADERS.includes(k.toLowerCase())) outside(c.id, 'channel', `header ${k.toLowerCase()}`, v);
      urlText(c.id, 'channel', [c.label, c.info.url ?? '', c.info.upstream ?? ''].join(' '));
    }
    urlText(0, 'command line', tape.meta.command_line.join(' '));
  } finally {
    tape.close();
  }
  return { path, frames, findings };
}

/**
 * Compressed HTTP bodies, gathered per exchange and handed on decoded once whole (a body's rows
 * cannot be decoded one by one). `take` says whether it took the frame (a body row to decode
 * later); other frames are scanned as they are.
 */
class CompressedBodies {
  /** By body key (request bodies under the negated channel): the head's codings and the rows so far. */
  private readonly open = new Map<number, { codings: string[]; rows: TapeFrame[] }>();
  constructor(private readonly scan: (first: TapeFrame, decoded: Buffer) => void) {}

  take(f: TapeFrame): boolean {
    const key = f.kind === 'http.request' || f.kind === 'http.request.body' ? -f.channel : f.channel;
    if (isHeadKind(f.kind)) {
      this.end(-f.channel); // a response head ends the request body
      const codings = codingsOf((JSON.parse(f.data.toString('utf8')) as { headers: HeaderPairs }).headers);
      if (codings.length) this.open.set(key, { codings, rows: [] });
      return false;
    }
    if (!isBodyKind(f.kind)) {
      this.end(f.channel);
      this.end(-f.channel);
      return false;
    }
    const o = this.open.get(key);
    if (!o) return false;
    o.rows.push(f);
    return true;
  }

  flush(): void {
    for (const k of [...this.open.keys()]) this.end(k);
  }

  private end(key: number): void {
    const o = this.open.get(key);
    if (!o) return;
    this.open.delete(key);
    if (!o.rows.length) return;
    const whole = Buffer.concat(o.rows.map((r) => r.data));
    const d = decodeBody(whole, o.codings);
    if (d) this.scan(o.rows[0], d.body);
    else {
      this.scan(o.rows[0], whole);
      this.unreadable.push({ row: o.rows[0], why: `content-encoding ${o.codings.join(', ')} cannot be decoded here${o.codings.includes('zstd') ? ' (zstd needs Node 22.15+)' : ''}` });
    }
  }

  readonly unreadable: { row: TapeFrame; why: string }[] = [];
}
