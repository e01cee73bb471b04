import { PLACEHOLDER } from '../tape/redact.js';
import { formatPointer, parsePointer } from '../json/pointer.js';

/**
 * How a field whose values differ between the recording and the live run is judged.
 * - `id`: an identifier one side generated; it must map consistently (recorded X is always live Y),
 *   and the mapping is substituted into frames sent later.
 * - `ignore`: expected to differ (timestamps, redaction placeholders, user rules).
 */
export type Treatment = { kind: 'id' | 'ignore'; rule: string };

/** Identifier keys of the ARCP preset besides `*_id`, the message `id` and credential `id`/`value`. */
const ID_KEYS = new Set(['resume_token', 'nonce', 'ping_nonce', 'next_cursor', 'cursor', 'idempotency_key']);
const TIME_KEYS = /(^|_)(at|ts|time|timestamp|after|before|since|until)$/;

/** Keys whose values are points in time (`expires_at`, `ts`, `created_after`, …). */
export const isTimestampKey = (key: string): boolean => TIME_KEYS.test(key);

export interface VolatileRules {
  /** The built-in ARCP preset: message ids, identifiers, timestamps, nonces, redaction placeholders. */
  preset: boolean;
  /** User rules: JSON pointers (with `*`) whose values are ignored. */
  pointers: string[];
}

export const DEFAULT_VOLATILE: VolatileRules = { preset: true, pointers: [] };

export class Volatility {
  private readonly user: { text: string; tokens: string[] }[];
  /** The length of the longest user pointer: only user rules can match a container, and none deeper than this. */
  readonly deepestPointer: number;
  constructor(readonly rules: VolatileRules = DEFAULT_VOLATILE) {
    this.user = rules.pointers.map((p) => ({ text: p, tokens: parsePointer(p) }));
    this.deepestPointer = Math.max(1, ...this.user.map((u) => u.tokens.length));
  }

  /**
   * Whether `treat` can call a value under this key an identifier (user rules only ignore): lets
   * an exact match learn its identifiers without building a path for every other leaf.
   */
  mayBeId(key: string): boolean {
    return this.rules.preset && (key === 'id' || key === 'value' || key.endsWith('_id') || ID_KEYS.has(key));
  }

  /**
   * `treat(path, value)?.kind === 'id'` for a string under `key`, `depth` keys deep, below a
   * `credentials` key or not: all the preset decides by. Only without user rules (they may match
   * any path, so only the whole path can say).
   */
  isIdLeaf(key: string, depth: number, underCredentials: boolean, value: string): boolean {
    return this.mayBeId(key) && !PLACEHOLDER.test(value) && idKind(key, depth, underCredentials) !== undefined;
  }

  get hasUserRules(): boolean {
    return this.user.length > 0;
  }

  /** How a differing value at `path` is treated, or undefined when it must be equal. */
  treat(path: string[], recorded: unknown): Treatment | undefined {
    for (const u of this.user) if (matches(u.tokens, path)) return { kind: 'ignore', rule: `user: ${u.text}` };
    if (!this.rules.preset) return undefined;
    const key = path[path.length - 1] ?? '';
    if (typeof recorded === 'string' && PLACEHOLDER.test(recorded)) return { kind: 'ignore', rule: 'preset: redaction placeholder' };
    // Session sequence numbers depend on how concurrent jobs interleave; replay checks gap-freedom instead.
    if (key === 'event_seq') return { kind: 'ignore', rule: 'preset: event_seq (checked per session)' };
    if (key === 'last_event_seq' && typeof recorded === 'number') return { kind: 'ignore', rule: 'preset: session sequence number' };
    if (typeof recorded !== 'string') return undefined;
    const id = idKind(key, path.length, path.includes('credentials'));
    if (id) return { kind: 'id', rule: id === 'message' ? 'preset: message id' : id === 'credential' ? `preset: identifier (credential ${key})` : `preset: identifier (${key})` };
    if (key === 'token' && path.includes('auth')) return { kind: 'ignore', rule: 'preset: bearer token' };
    if (TIME_KEYS.test(key)) return { kind: 'ignore', rule: `preset: timestamp (${key})` };
    return undefined;
  }
}

/** Which of the preset's identifiers a string under `key`, `depth` keys deep, is (the one copy of that rule). */
function idKind(key: string, depth: number, underCredentials: boolean): 'message' | 'identifier' | 'credential' | undefined {
  if (key === 'id' && depth === 1) return 'message';
  if (key.endsWith('_id') || ID_KEYS.has(key)) return 'identifier';
  if ((key === 'id' || key === 'value') && underCredentials) return 'credential';
  return undefined;
}

function matches(tokens: string[], path: string[]): boolean {
  return tokens.length === path.length && tokens.every((t, i) => t === '*' || t === path[i]);
}

export const toPointer = formatPointer;
