import type { HeaderPairs, RedactionRules } from './format.js';

/** Secrets redacted unless `--no-redact`: the hello/resume bearer token and provisioned credential values. */
export const DEFAULT_POINTERS = ['/payload/auth/token', '/payload/credentials/*/value'];
export const DEFAULT_HEADERS = ['authorization', 'proxy-authorization', 'x-api-key', 'api-key', 'cookie', 'set-cookie'];

export function defaultRules(extra: Partial<Omit<RedactionRules, 'enabled'>> = {}, enabled = true): RedactionRules {
  return {
    enabled,
    pointers: [...(enabled ? DEFAULT_POINTERS : []), ...(extra.pointers ?? [])],
    headers: [...(enabled ? DEFAULT_HEADERS : []), ...(extra.headers ?? []).map((h) => h.toLowerCase())],
    regexes: [...(extra.regexes ?? [])],
  };
}

/** Placeholders look like this; replay treats them as volatile. */
export const PLACEHOLDER = /\[arcp-redacted:\d+\]/;

/** Splits a JSON pointer (RFC 6901) into tokens; `*` matches every array element or key. */
export function pointerTokens(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`JSON pointer "${pointer}" must start with "/"`);
  return pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Every string value reached by a pointer (with `*` wildcards) in a parsed document. */
export function valuesAt(doc: unknown, tokens: string[], from = 0, out: string[] = []): string[] {
  if (from === tokens.length) {
    if (typeof doc === 'string') out.push(doc);
    return out;
  }
  if (doc === null || typeof doc !== 'object') return out;
  const o = doc as Record<string, unknown>;
  const head = tokens[from];
  if (head === '*') for (const k of Object.keys(o)) valuesAt(o[k], tokens, from + 1, out);
  else if (Object.hasOwn(o, head)) valuesAt(o[head], tokens, from + 1, out);
  return out;
}

/**
 * Replaces secrets in frames at record time. The same secret always gets the same placeholder
 * within a tape, so replay can match frames that repeat it. Only the secret's bytes change:
 * the rest of the frame keeps its exact bytes (key order, spacing, number forms).
 */
export class Redactor {
  private readonly pointers: string[][];
  /** A frame can only hold a pointer's value if it holds the pointer's last key: a cheap pre-check. */
  private readonly needles: string[];
  /** The needles' UTF-8 bytes, one char a byte: what they look like in a latin1 view. */
  private readonly needleBytes: string[];
  private readonly headers: Set<string>;
  private readonly regexes: RegExp[];
  private readonly placeholders = new Map<string, string>();

  constructor(readonly rules: RedactionRules) {
    this.pointers = rules.pointers.map(pointerTokens);
    this.needles = this.pointers.map((t) => [...t].reverse().find((k) => k !== '*')).map((k) => (k === undefined ? '' : JSON.stringify(k)));
    this.needleBytes = this.needles.map((n) => Buffer.from(n, 'utf8').toString('latin1'));
    this.headers = new Set(rules.headers.map((h) => h.toLowerCase()));
    this.regexes = rules.regexes.map((r) => new RegExp(r, 'g'));
  }

  /** False when no rule can apply to these bytes: the caller may skip decoding and parsing them. */
  mayMatchBytes(data: Buffer): boolean {
    if (this.regexes.length > 0) return true;
    if (!this.needles.length) return false;
    // Searching a latin1 view for the needles' UTF-8 bytes is a byte search, about twice as fast
    // as Buffer#indexOf. A key written with \u escapes has another spelling: let those through.
    const text = data.toString('latin1');
    return text.includes('\\u') || this.needleBytes.some((n) => text.includes(n));
  }

  get active(): boolean {
    return this.pointers.length + this.headers.size + this.regexes.length > 0;
  }

  placeholderFor(secret: string): string {
    let p = this.placeholders.get(secret);
    if (!p) {
      p = `[arcp-redacted:${this.placeholders.size + 1}]`;
      this.placeholders.set(secret, p);
    }
    return p;
  }

  /** A JSON text (one ARCP frame, an HTTP JSON body): pointer rules, then regexes. `parsed` saves a second parse. */
  json(text: string, parsed?: unknown): string {
    return this.text(this.atPointers(text, parsed));
  }

  private atPointers(text: string, parsed: unknown): string {
    if (parsed === undefined) return text;
    // Walking the parsed document down each pointer is cheaper than searching the text.
    const secrets = new Set<string>();
    for (const t of this.pointers) for (const s of valuesAt(parsed, t)) secrets.add(s);
    let out = text;
    for (const s of secrets) {
      if (s === '' || PLACEHOLDER.test(s)) continue;
      const encoded = JSON.stringify(s);
      const replaced = out.split(encoded).join(JSON.stringify(this.placeholderFor(s)));
      // The secret was written with escapes JSON.stringify would not use: fall back to re-encoding.
      out = replaced !== out ? replaced : this.reencode(parsed);
    }
    return out;
  }

  private reencode(parsed: unknown): string {
    const copy = structuredClone(parsed);
    for (const t of this.pointers) setAt(copy, t, (s) => this.placeholderFor(s));
    return JSON.stringify(copy);
  }

  /** Free text (a body that is not JSON, an SSE chunk's non-data lines): regex rules only. */
  text(text: string): string {
    let out = text;
    for (const re of this.regexes) out = out.replace(re, (m) => (PLACEHOLDER.test(m) ? m : this.placeholderFor(m)));
    return out;
  }

  /** An SSE chunk: each complete `data:` line that holds JSON gets the pointer rules. */
  sse(text: string): string {
    if (!this.pointers.length || !this.needles.some((n) => text.includes(n))) return this.text(text);
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const m = /^data: ?(.*?)(\r?)$/.exec(lines[i]);
      if (!m || !m[1].startsWith('{')) continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(m[1]);
      } catch {
        continue; // an event split across chunks; regex rules still apply below
      }
      const prefix = lines[i].slice(0, lines[i].length - m[1].length - m[2].length);
      lines[i] = prefix + this.atPointers(m[1], parsed) + m[2];
    }
    return this.text(lines.join('\n'));
  }

  headerPairs(pairs: HeaderPairs): { pairs: HeaderPairs; changed: boolean } {
    if (!this.regexes.length && !pairs.some(([k]) => this.headers.has(k.toLowerCase()))) return { pairs, changed: false };
    let changed = false;
    const out = pairs.map(([k, v]): [string, string] => {
      if (this.headers.has(k.toLowerCase()) && !PLACEHOLDER.test(v)) {
        changed = true;
        return [k, this.placeholderFor(v)];
      }
      const t = this.text(v);
      if (t !== v) changed = true;
      return [k, t];
    });
    return { pairs: out, changed };
  }
}

function setAt(doc: unknown, tokens: string[], fn: (s: string) => string): void {
  if (doc === null || typeof doc !== 'object' || tokens.length === 0) return;
  const [head, ...rest] = tokens;
  const o = doc as Record<string, unknown>;
  for (const k of head === '*' ? Object.keys(o) : Object.hasOwn(o, head) ? [head] : []) {
    if (rest.length === 0 && typeof o[k] === 'string') o[k] = fn(o[k] as string);
    else setAt(o[k], rest, fn);
  }
}
