import { parsePointer, stringsAt } from '../json/pointer.js';
import { randomBytes, scryptSync } from 'node:crypto';
import type { HeaderPairs, RedactionRules, RedactionSummary } from './format.js';

/** Secrets redacted unless `--no-redact`: the hello/resume bearer token and provisioned credential values. */
export const DEFAULT_POINTERS = ['/payload/auth/token', '/payload/credentials/*/value'];
export const DEFAULT_HEADERS = ['authorization', 'proxy-authorization', 'x-api-key', 'api-key', 'cookie', 'set-cookie'];
/**
 * URL query parameters that carry credentials by convention (API keys, OAuth tokens, signed-URL
 * signatures), matched without regard to case, in HTTP and WebSocket URLs alike.
 */
export const DEFAULT_QUERY_PARAMS = [
  'api_key', 'apikey', 'api-key', 'key', 'access_token', 'refresh_token', 'id_token', 'token', 'auth', 'auth_token',
  'password', 'passwd', 'secret', 'client_secret', 'sig', 'signature',
  'x-amz-signature', 'x-amz-credential', 'x-amz-security-token', 'x-goog-signature', 'x-goog-credential',
];

export function defaultRules(extra: Partial<Omit<RedactionRules, 'enabled'>> = {}, enabled = true): RedactionRules {
  return {
    enabled,
    pointers: [...(enabled ? DEFAULT_POINTERS : []), ...(extra.pointers ?? [])],
    headers: [...(enabled ? DEFAULT_HEADERS : []), ...(extra.headers ?? []).map((h) => h.toLowerCase())],
    regexes: [...(extra.regexes ?? [])],
    query: [...(enabled ? DEFAULT_QUERY_PARAMS : []), ...(extra.query ?? []).map((q) => q.toLowerCase())],
  };
}

/**
 * What a tape stores of its redaction rules: how many of each, never their text (a rule is
 * often the secret itself), and a salted scrypt digest of the rules beyond the defaults, so
 * someone holding the rules can check they were these.
 */
export function summarizeRules(r: RedactionRules): RedactionSummary {
  const extra = {
    pointers: r.pointers.filter((p) => !DEFAULT_POINTERS.includes(p)),
    headers: r.headers.filter((h) => !DEFAULT_HEADERS.includes(h)),
    regexes: r.regexes,
    query: (r.query ?? []).filter((q) => !DEFAULT_QUERY_PARAMS.includes(q)),
  };
  const salt = randomBytes(16);
  const digest = scryptSync(JSON.stringify(extra), salt, 32).toString('hex');
  return {
    enabled: r.enabled,
    defaults: r.enabled,
    counts: { pointers: r.pointers.length, headers: r.headers.length, regexes: r.regexes.length, query: (r.query ?? []).length },
    extra_digest: `scrypt:${salt.toString('hex')}:${digest}`,
  };
}

/** Flags whose value is a secret or a redaction rule, in a stored command line. */
const SECRET_FLAGS = new Set(['--redact-regex', '--redact-pointer', '--redact-header', '--redact-query', '--regex', '--pointer', '--header', '--query', '--token', '--token2', '--observer-token', '--api-key', '--password', '--secret']);

/** A command line as a tape may store it: rule and token flag values replaced, every argument redacted as a URL and by the regex rules. */
export function scrubCommandLine(argv: string[], redactor: Redactor): string[] {
  return argv.map((a, i) => {
    if (i > 0 && SECRET_FLAGS.has(argv[i - 1])) return '[arcp-redacted]';
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0 && SECRET_FLAGS.has(a.slice(0, eq))) return `${a.slice(0, eq)}=[arcp-redacted]`;
    return redactor.rules.enabled || redactor.active ? redactor.url(a) : a;
  });
}

/** `?name=value` pairs (also after `&` and `;`), and `scheme://user:password@` in URLs. */
const QUERY_PAIR = /([?&;])([^=&#;\s"'?]+)=([^&#;\s"']*)/g;
const USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@"']+:)([^@\s/"']+)(@)/gi;

/** Placeholders look like this; replay treats them as volatile. */
export const PLACEHOLDER = /\[arcp-redacted:\d+\]/;

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
  private readonly query: Set<string>;
  private readonly regexes: RegExp[];
  private readonly placeholders = new Map<string, string>();

  constructor(readonly rules: RedactionRules) {
    this.pointers = rules.pointers.map(parsePointer);
    this.needles = this.pointers.map((t) => [...t].reverse().find((k) => k !== '*')).map((k) => (k === undefined ? '' : JSON.stringify(k)));
    this.needleBytes = this.needles.map((n) => Buffer.from(n, 'utf8').toString('latin1'));
    this.headers = new Set(rules.headers.map((h) => h.toLowerCase()));
    this.query = new Set((rules.query ?? []).map((q) => q.toLowerCase()));
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
    return this.pointers.length + this.headers.size + this.regexes.length + this.query.size > 0;
  }

  /** False when `url()` cannot change this text: the cheap test before parsing a channel's info or a transport event. */
  mayMatchUrl(text: string): boolean {
    return this.regexes.length > 0 || (this.query.size > 0 && (text.includes('=') || text.includes('@')));
  }

  /**
   * A URL, a path, or text holding them (a channel label, an error line): credential query
   * values and URL passwords become placeholders, then the regex rules apply.
   */
  url(text: string): string {
    let out = text;
    if (this.query.size) {
      out = out.replace(QUERY_PAIR, (m, sep: string, name: string, value: string) => {
        if (!value || PLACEHOLDER.test(value) || !this.query.has(safeDecode(name).toLowerCase())) return m;
        return `${sep}${name}=${this.placeholderFor(value)}`;
      });
      out = out.replace(USERINFO, (m, head: string, password: string, at: string) => (PLACEHOLDER.test(password) ? m : head + this.placeholderFor(password) + at));
    }
    return this.text(out);
  }

  /** The credential query parameters left in clear in a URL or path (for `tape scan`). */
  credentialParams(text: string): { name: string; value: string }[] {
    const out: { name: string; value: string }[] = [];
    for (const m of text.matchAll(QUERY_PAIR)) if (m[3] && !PLACEHOLDER.test(m[3]) && this.query.has(safeDecode(m[2]).toLowerCase())) out.push({ name: m[2], value: m[3] });
    for (const m of text.matchAll(USERINFO)) if (!PLACEHOLDER.test(m[2])) out.push({ name: 'URL password', value: m[2] });
    return out;
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
    for (const t of this.pointers) for (const s of stringsAt(parsed, t)) secrets.add(s);
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

  /** An SSE chunk: each complete `data:` line that holds a JSON object or array gets the pointer rules. */
  sse(text: string): string {
    // The same pre-check as mayMatchBytes: a key written with \u escapes has another spelling.
    if (!this.pointers.length || (!text.includes('\\u') && !this.needles.some((n) => text.includes(n)))) return this.text(text);
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const m = /^data: ?(.*?)(\r?)$/.exec(lines[i]);
      if (!m || (m[1][0] !== '{' && m[1][0] !== '[')) continue; // only an object or array can hold a pointer's value
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

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
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
