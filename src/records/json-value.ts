/** JSON helpers for records and attestations, without recursion (bodies can nest deeply). */
import { escapeToken } from '../json/pointer.js';

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Canonical JSON (RFC 8785, JCS): object keys sorted by UTF-16 code units, no whitespace,
 * numbers and strings as ECMAScript serialises them. What is signed is this text.
 */
export function canonicalJson(value: unknown): string {
  let out = '';
  const stack: unknown[] = [value];
  // Items are values to write, or literal strings (wrapped) to append: separators and keys.
  while (stack.length) {
    const v = stack.pop();
    if (v instanceof Literal) {
      out += v.text;
      continue;
    }
    if (Array.isArray(v)) {
      stack.push(new Literal(']'));
      for (let i = v.length - 1; i >= 0; i--) {
        stack.push(v[i] === undefined ? null : v[i]);
        if (i > 0) stack.push(new Literal(','));
      }
      out += '[';
    } else if (isObj(v)) {
      const keys = Object.keys(v).filter((k) => v[k] !== undefined).sort();
      stack.push(new Literal('}'));
      for (let i = keys.length - 1; i >= 0; i--) {
        stack.push(v[keys[i]]);
        stack.push(new Literal(`${i > 0 ? ',' : ''}${JSON.stringify(keys[i])}:`));
      }
      out += '{';
    } else out += JSON.stringify(v) ?? 'null';
  }
  return out;
}

class Literal {
  constructor(readonly text: string) {}
}

export interface ValueDifference {
  pointer: string;
  /** Absent: the field is not there. */
  expected?: unknown;
  actual?: unknown;
}

/** Every place two JSON values differ (exactly), as JSON pointers; at most `limit`. */
export function jsonDifferences(expected: unknown, actual: unknown, limit = 20): ValueDifference[] {
  const out: ValueDifference[] = [];
  const stack: [string, unknown, unknown][] = [['', expected, actual]];
  while (stack.length && out.length < limit) {
    const [p, a, b] = stack.pop()!;
    if (Array.isArray(a) && Array.isArray(b)) {
      for (let i = Math.max(a.length, b.length) - 1; i >= 0; i--) stack.push([`${p}/${i}`, a[i], b[i]]);
    } else if (isObj(a) && isObj(b)) {
      const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort().reverse();
      for (const k of keys) stack.push([`${p}/${escapeToken(k)}`, a[k], b[k]]);
    } else if (a !== b) out.push({ pointer: p || '/', ...(a !== undefined ? { expected: a } : {}), ...(b !== undefined ? { actual: b } : {}) });
  }
  return out;
}

