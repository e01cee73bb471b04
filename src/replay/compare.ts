import type { IdMap } from './ids.js';
import { toPointer, type Volatility } from './volatile.js';

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
 * into `ids` (which must stay consistent).
 */
export function compareFrames(recorded: Buffer, live: Buffer, vol: Volatility, ids: IdMap): Comparison {
  if (recorded.equals(live)) {
    learnAll(recorded, vol, ids);
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
    b = JSON.parse(live.toString('utf8'));
  } catch {
    return { ok: false, how: 'different', fields: [], note: 'the live frame is not JSON' };
  }
  const fields = compareValues(a, b, vol, ids);
  const ok = fields.every((f) => f.tolerated);
  return { ok, how: ok ? 'structural' : 'different', fields };
}

export function compareValues(a: unknown, b: unknown, vol: Volatility, ids: IdMap, path: string[] = [], out: FieldDiff[] = []): FieldDiff[] {
  if (isObject(a) && isObject(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (!Object.hasOwn(b, k)) out.push(field([...path, k], a[k], undefined, vol));
      else if (!Object.hasOwn(a, k)) out.push(field([...path, k], undefined, b[k], vol));
      else compareValues(a[k], b[k], vol, ids, [...path, k], out);
    }
    return out;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i >= b.length) out.push(field([...path, String(i)], a[i], undefined, vol));
      else if (i >= a.length) out.push(field([...path, String(i)], undefined, b[i], vol));
      else compareValues(a[i], b[i], vol, ids, [...path, String(i)], out);
    }
    return out;
  }
  const t = vol.treat(path, a);
  if (t?.kind === 'id' && typeof a === 'string' && typeof b === 'string') {
    const conflict = ids.learn(a, b);
    if (conflict) out.push({ pointer: toPointer(path), expected: a, actual: b, rule: `${t.rule}: inconsistent, ${conflict}`, tolerated: false });
    else if (a !== b) out.push({ pointer: toPointer(path), expected: a, actual: b, rule: t.rule, tolerated: true });
    return out;
  }
  if (a === b) return out;
  if (typeof a === 'string' && typeof b === 'string' && vol.rules.preset && ids.within(a) === b) {
    out.push({ pointer: toPointer(path), expected: a, actual: b, rule: 'preset: identifier inside a string', tolerated: true });
    return out;
  }
  out.push(field(path, a, b, vol));
  return out;
}

function field(path: string[], expected: unknown, actual: unknown, vol: Volatility): FieldDiff {
  const t = vol.treat(path, expected ?? actual);
  // A field on one side only is tolerated by a user rule, never by the preset.
  const oneSided = expected === undefined || actual === undefined;
  const rule = oneSided && !t?.rule.startsWith('user') ? undefined : t;
  return { pointer: toPointer(path), expected, actual, rule: rule?.rule ?? 'exact', tolerated: rule !== undefined };
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
  const walk = (x: unknown, path: string[]) => {
    if (isObject(x)) for (const [k, y] of Object.entries(x)) walk(y, [...path, k]);
    else if (Array.isArray(x)) x.forEach((y, i) => walk(y, [...path, String(i)]));
    else if (typeof x === 'string' && vol.treat(path, x)?.kind === 'id') ids.learn(x, x);
  };
  walk(v, []);
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
