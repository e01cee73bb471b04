import type { Echoes } from './echo.js';
import type { IdMap } from './ids.js';
import { jsonPreview } from './preview.js';
import { toPointer, type Volatility } from './volatile.js';
import { child, eachLeaf, pathOf, type PathNode } from './walk.js';

export interface FieldDiff {
  pointer: string;
  expected: unknown;
  actual: unknown;
  /** What decided: `exact` (must be equal and is not), or the preset or user rule that tolerated it. */
  rule: string;
  tolerated: boolean;
}

export interface Comparison {
  ok: boolean;
  /** `exact`: same bytes; `structural`: same JSON modulo the rules; otherwise the first failing rule. */
  how: 'exact' | 'structural' | 'different';
  fields: FieldDiff[];
  /** Why the two could not be compared as JSON, when they could not. */
  note?: string;
}

/**
 * Compares a recorded frame with a live one: exact bytes first; otherwise both are parsed and
 * compared field by field, differences judged by the volatile rules; identifiers are learnt
 * into `ids` (which must stay consistent), and other volatile values the live side chose into
 * `echoes` (so that a recorded echo of them can be answered with the live value).
 */
export function compareFrames(recorded: Buffer, live: Buffer, vol: Volatility, ids: IdMap, echoes?: Echoes, liveParsed?: unknown): Comparison {
  // `liveParsed`: the caller's parse of `live` (the driver parses each frame once); equal bytes parse alike.
  if (recorded.equals(live)) {
    if (liveParsed !== undefined) learnFrom(liveParsed, vol, ids);
    else learnAll(recorded, vol, ids);
    return { ok: true, how: 'exact', fields: [] };
  }
  let a: unknown;
  let b: unknown;
  try {
    a = JSON.parse(recorded.toString('utf8'));
  } catch {
    return { ok: false, how: 'different', fields: [], note: 'the recorded frame is not JSON, and the bytes differ' };
  }
  try {
    b = liveParsed !== undefined ? liveParsed : JSON.parse(live.toString('utf8'));
  } catch {
    return { ok: false, how: 'different', fields: [], note: 'the live frame is not JSON' };
  }
  const fields = compareValues(a, b, vol, ids, echoes);
  const ok = fields.every((f) => f.tolerated);
  return { ok, how: ok ? 'structural' : 'different', fields };
}

/** A stack entry that holds a finished FieldDiff (in `b`), so output stays in depth-first key order. */
const MARK = Symbol('field');

/**
 * Field-by-field comparison, depth first in key order. Iterative: a frame nested 100k deep is
 * compared like any other (no recursion on input depth).
 */
export function compareValues(a: unknown, b: unknown, vol: Volatility, ids: IdMap, echoes?: Echoes): FieldDiff[] {
  const out: FieldDiff[] = [];
  const stack: { a: unknown; b: unknown; at?: PathNode }[] = [{ a, b }];
  while (stack.length) {
    const { a, b, at } = stack.pop()!;
    if (isObject(a) && isObject(b)) {
      const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
      for (let i = keys.length - 1; i >= 0; i--) {
        const k = keys[i];
        const node = child(at, k);
        if (!Object.hasOwn(b, k)) stack.push({ a: MARK, b: field(node, a[k], undefined, vol) });
        else if (!Object.hasOwn(a, k)) stack.push({ a: MARK, b: field(node, undefined, b[k], vol) });
        else stack.push({ a: a[k], b: b[k], at: node });
      }
      continue;
    }
    if (a === MARK) {
      out.push(b as FieldDiff);
      continue;
    }
    if (Array.isArray(a) && Array.isArray(b)) {
      for (let i = Math.max(a.length, b.length) - 1; i >= 0; i--) {
        const node = child(at, String(i));
        if (i >= b.length) stack.push({ a: MARK, b: field(node, a[i], undefined, vol) });
        else if (i >= a.length) stack.push({ a: MARK, b: field(node, undefined, b[i], vol) });
        else stack.push({ a: a[i], b: b[i], at: node });
      }
      continue;
    }
    leaf(a, b, at, vol, ids, echoes, out);
  }
  return out;
}

function leaf(a: unknown, b: unknown, at: PathNode | undefined, vol: Volatility, ids: IdMap, echoes: Echoes | undefined, out: FieldDiff[]): void {
  if (a === b && typeof a !== 'string') return;
  const path = pathOf(at);
  const t = vol.treat(path, a);
  if (t?.kind === 'id' && typeof a === 'string' && typeof b === 'string') {
    const conflict = ids.learn(a, b);
    if (conflict) out.push({ pointer: toPointer(path), expected: a, actual: b, rule: `${t.rule}: inconsistent, ${conflict}`, tolerated: false });
    else if (a !== b) out.push({ pointer: toPointer(path), expected: a, actual: b, rule: t.rule, tolerated: true });
    return;
  }
  if (a === b) return;
  if (typeof a === 'string' && typeof b === 'string' && vol.rules.preset) {
    const mapped = ids.within(a);
    if (mapped === b || (echoes?.size && echoes.within(mapped) === b)) {
      out.push({ pointer: toPointer(path), expected: a, actual: b, rule: mapped === b ? 'preset: identifier inside a string' : 'preset: echoed value inside a string', tolerated: true });
      return;
    }
  }
  const f = field(at, a, b, vol);
  if (f.tolerated && echoes && (typeof a === 'string' || typeof a === 'number') && typeof a === typeof b) echoes.learn(a as string | number, b as string | number, path, f.rule);
  out.push(f);
}

function field(at: PathNode | undefined, expected: unknown, actual: unknown, vol: Volatility): FieldDiff {
  const path = pathOf(at);
  const t = vol.treat(path, expected ?? actual);
  // A value of another JSON type, or a field on one side only (undefined is a type of its own), is tolerated by a user rule, never by the preset.
  const rule = jsonType(expected) !== jsonType(actual) && !t?.rule.startsWith('user') ? undefined : t;
  return { pointer: toPointer(path), expected: jsonPreview(expected), actual: jsonPreview(actual), rule: rule?.rule ?? 'exact', tolerated: rule !== undefined };
}

/** An exact match still teaches identity mappings, so later frames are checked against them. */
function learnAll(data: Buffer, vol: Volatility, ids: IdMap): void {
  if (data[0] !== 0x7b) return;
  let v: unknown;
  try {
    v = JSON.parse(data.toString('utf8'));
  } catch {
    return;
  }
  learnFrom(v, vol, ids);
}

/** What an exact match teaches: the identifiers of the frame, each the same both sides. */
export function learnFrom(v: unknown, vol: Volatility, ids: IdMap): void {
  if (vol.hasUserRules) {
    eachLeaf(v, (key) => vol.mayBeId(key), (path, x) => {
      if (typeof x === 'string' && vol.treat(path, x)?.kind === 'id') ids.learn(x, x);
    });
    return;
  }
  // The preset alone: a string's key, depth and a `credentials` key above it decide, so no path
  // is built. Once a frame, so nothing is allocated: `for…in` (no key array), shared stacks.
  if (v === null || typeof v !== 'object') return;
  const base = stackX.length;
  push(v, 0, false);
  while (stackX.length > base) {
    const x = stackX.pop()!;
    const depth = stackDepth.pop()!;
    const cred = stackCred.pop()!;
    if (Array.isArray(x)) {
      for (const e of x) if (e !== null && typeof e === 'object') push(e, depth + 1, cred); // an index is never an identifier's key
      continue;
    }
    for (const k in x) {
      const e = (x as Record<string, unknown>)[k];
      if (typeof e === 'string') {
        if (vol.isIdLeaf(k, depth + 1, cred, e)) ids.learn(e, e);
      } else if (e !== null && typeof e === 'object') push(e, depth + 1, cred || k === 'credentials');
    }
  }
}

const stackX: object[] = [];
const stackDepth: number[] = [];
const stackCred: boolean[] = [];
function push(x: object, depth: number, cred: boolean): void {
  stackX.push(x);
  stackDepth.push(depth);
  stackCred.push(cred);
}

const jsonType = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
