import { isUtf8 } from 'node:buffer';
import { DEFAULT_HEADERS, DEFAULT_POINTERS, PLACEHOLDER, pointerTokens, valuesAt } from './redact.js';
import { isHeadKind, isMessageKind } from './format.js';
import { TapeReader } from './reader.js';

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
  const pointers = DEFAULT_POINTERS.map((p) => [p, pointerTokens(p)] as const);
  const findings: Finding[] = [];
  let frames = 0;
  try {
    for (const f of tape.frames()) {
      frames++;
      if (!isUtf8(f.data)) continue;
      const text = f.data.toString('utf8');
      const found = (rule: string, secret: string) => {
        if (!PLACEHOLDER.test(secret)) findings.push({ seq: f.seq, channel: f.channel, kind: f.kind, rule, preview: mask(secret) });
      };
      if (isMessageKind(f.kind) && text.startsWith('{')) {
        try {
          const doc = JSON.parse(text);
          for (const [p, t] of pointers) for (const v of valuesAt(doc, t)) if (v) found(p, v);
        } catch {
          // not JSON: the patterns below still apply
        }
      }
      if (isHeadKind(f.kind)) {
        const head = JSON.parse(text) as { headers?: [string, string][] };
        for (const [k, v] of head.headers ?? []) if (DEFAULT_HEADERS.includes(k.toLowerCase())) found(`header ${k.toLowerCase()}`, v);
      }
      for (const [name, re] of SECRET_PATTERNS) for (const m of text.matchAll(re)) found(name, m[0]);
    }
    for (const c of tape.channels()) {
      for (const [k, v] of c.info.headers ?? []) {
        if (DEFAULT_HEADERS.includes(k.toLowerCase()) && !PLACEHOLDER.test(v)) findings.push({ seq: 0, channel: c.id, kind: 'channel', rule: `header ${k.toLowerCase()}`, preview: mask(v) });
      }
    }
  } finally {
    tape.close();
  }
  return { path, frames, findings };
}
