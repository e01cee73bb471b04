import { ArcpError } from './errors.js';
import type { Budget, Lease, LeaseConstraints } from './schemas/common.js';

/** Segment separators per namespace: what `*` may not cross (§9.2). */
const SEPARATORS: Record<string, RegExp> = {
  'fs.read': /\//,
  'fs.write': /\//,
  'net.fetch': /\//,
  'tool.call': /[./]/,
  'model.use': /\//,
  'agent.delegate': /(?!)/,
};
const sepOf = (ns: string): RegExp => SEPARATORS[ns] ?? /\//;

const segRegexCache = new Map<string, RegExp>();
function segRegex(seg: string): RegExp {
  let re = segRegexCache.get(seg);
  if (!re) {
    re = new RegExp('^' + seg.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$', 's');
    segRegexCache.set(seg, re);
  }
  return re;
}

function matchSegs(p: string[], t: string[], i = 0, j = 0): boolean {
  if (i === p.length) return j === t.length;
  if (p[i] === '**') {
    for (let k = j; k <= t.length; k++) if (matchSegs(p, t, i + 1, k)) return true;
    return false;
  }
  return j < t.length && segRegex(p[i]).test(t[j]) && matchSegs(p, t, i + 1, j + 1);
}

/** Anchored glob match: `*` within one segment, `**` any number of whole segments. */
export function globMatch(pattern: string, target: string, namespace = 'fs.read'): boolean {
  const sep = sepOf(namespace);
  return matchSegs(pattern.split(sep), target.split(sep));
}

function segCovers(outer: string, inner: string): boolean {
  if (!inner.includes('*')) return segRegex(outer).test(inner);
  return outer === '*' || outer === inner;
}

function coversSegs(o: string[], n: string[], i = 0, j = 0): boolean {
  if (i === o.length) return j === n.length;
  if (o[i] === '**') return coversSegs(o, n, i + 1, j) || (j < n.length && coversSegs(o, n, i, j + 1));
  if (j === n.length || n[j] === '**') return false;
  return segCovers(o[i], n[j]) && coversSegs(o, n, i + 1, j + 1);
}

/**
 * True when every string `inner` matches is also matched by `outer` (§9.4). Conservative:
 * when containment cannot be shown this way it answers false, and delegation is refused.
 */
export function patternCovers(outer: string, inner: string, namespace = 'fs.read'): boolean {
  const sep = sepOf(namespace);
  return coversSegs(outer.split(sep), inner.split(sep));
}

/** §9.6 amount string. Kept in millionths so repeated decrements do not drift. */
export interface Amount {
  currency: string;
  micros: number;
}
const AMOUNT = /^([A-Za-z][A-Za-z0-9_-]*):(\d+(?:\.\d+)?)$/;
export function parseAmount(s: string): Amount {
  const m = AMOUNT.exec(s);
  if (!m) throw new ArcpError('INVALID_REQUEST', `Invalid cost.budget amount "${s}" (expected CURRENCY:DECIMAL)`);
  return { currency: m[1], micros: Math.round(Number(m[2]) * 1e6) };
}
export const toMicros = (v: number): number => Math.round(v * 1e6);
export const fromMicros = (m: number): number => m / 1e6;

const NAMESPACE = /^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$/;

/** Checks a requested lease's shape; INVALID_REQUEST on the first problem. */
export function validateLease(lease: Lease): void {
  for (const [ns, patterns] of Object.entries(lease)) {
    if (!NAMESPACE.test(ns)) throw new ArcpError('INVALID_REQUEST', `Invalid capability namespace "${ns}"`);
    for (const p of patterns) {
      if (p.length === 0) throw new ArcpError('INVALID_REQUEST', `Empty pattern in "${ns}"`);
      if (ns === 'cost.budget') parseAmount(p);
    }
  }
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
/** §9.5: ISO 8601, UTC `Z`, in the future. Returns epoch ms. */
export function validateExpiresAt(value: string, now = Date.now()): number {
  const t = ISO_UTC.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(t)) {
    throw new ArcpError('INVALID_REQUEST', `lease_constraints.expires_at "${value}" is not an ISO 8601 UTC time`);
  }
  if (t <= now) throw new ArcpError('INVALID_REQUEST', 'lease_constraints.expires_at MUST be in the future');
  return t;
}

/** Budget counters of one job (§9.6). */
export class BudgetCounters {
  private readonly counters = new Map<string, number>();
  constructor(lease: Lease) {
    for (const a of (lease['cost.budget'] ?? []).map(parseAmount)) {
      this.counters.set(a.currency, (this.counters.get(a.currency) ?? 0) + a.micros);
    }
  }
  get active(): boolean {
    return this.counters.size > 0;
  }
  has(currency: string): boolean {
    return this.counters.has(currency);
  }
  /** Applies a `cost.*` metric; negative values are rejected (no decrement). Returns the new remaining. */
  charge(currency: string, value: number): number | undefined {
    const cur = this.counters.get(currency);
    if (cur === undefined || value < 0) return undefined;
    const next = cur - toMicros(value);
    this.counters.set(currency, next);
    return fromMicros(next);
  }
  exhausted(): { currency: string; remaining: number } | undefined {
    for (const [currency, m] of this.counters) if (m <= 0) return { currency, remaining: fromMicros(m) };
    return undefined;
  }
  remainingMicros(currency: string): number | undefined {
    return this.counters.get(currency);
  }
  toJSON(): Budget {
    return Object.fromEntries([...this.counters].map(([c, m]) => [c, fromMicros(m)]));
  }
}

/** The capability namespaces through which an operation spends budget (§9.6). */
const BUDGETED = /^(tool\.call|fs\.|net\.fetch|agent\.delegate)/;

export interface LeaseGuardState {
  lease: Lease;
  expiresAt?: number;
  budget: BudgetCounters;
}

/**
 * §9.3–§9.6 enforcement for one operation, synchronous, before dispatch.
 * Order: expiry, budget, coverage.
 */
export function authorize(state: LeaseGuardState, capability: string, target: string, now = Date.now()): void {
  if (state.expiresAt !== undefined && now >= state.expiresAt) {
    throw new ArcpError('LEASE_EXPIRED', `Lease expired at ${new Date(state.expiresAt).toISOString()}`, {
      capability,
      target,
    });
  }
  if (BUDGETED.test(capability)) {
    const ex = state.budget.exhausted();
    if (ex) {
      throw new ArcpError('BUDGET_EXHAUSTED', `${ex.currency} budget exhausted`, {
        capability,
        target,
        currency: ex.currency,
        remaining: ex.remaining,
      });
    }
  }
  const patterns = state.lease[capability] ?? [];
  if (!patterns.some((p) => globMatch(p, target, capability))) {
    throw new ArcpError('PERMISSION_DENIED', `Lease denies "${capability}" on "${target}"`, {
      capability,
      target,
      patterns,
    });
  }
}

export interface SubsetResult {
  lease: Lease;
  constraints?: LeaseConstraints;
  expiresAt?: number;
}

/**
 * §9.4 / §10: a delegated lease must be a subset of the parent's, its budget within the
 * parent's remaining budget, its expiry no later than the parent's (and inherited when absent).
 */
export function deriveChildLease(
  parent: LeaseGuardState,
  child: Lease,
  childConstraints: LeaseConstraints | undefined,
  now = Date.now(),
): SubsetResult {
  const violation = (why: string) =>
    new ArcpError('LEASE_SUBSET_VIOLATION', `Child lease is not a subset of parent lease: ${why}`, {
      child,
      parent: parent.lease,
    });
  validateLease(child);
  for (const [ns, patterns] of Object.entries(child)) {
    if (ns === 'cost.budget') {
      for (const a of patterns.map(parseAmount)) {
        const rem = parent.budget.remainingMicros(a.currency);
        if (rem !== undefined && a.micros > rem) {
          throw violation(`cost.budget ${a.currency}:${fromMicros(a.micros)} exceeds parent's remaining ${fromMicros(rem)}`);
        }
      }
      continue;
    }
    const outer = parent.lease[ns];
    if (!outer) throw violation(`parent lease has no "${ns}"`);
    for (const p of patterns) {
      if (!outer.some((o) => patternCovers(o, p, ns))) throw violation(`"${ns}" pattern "${p}" is not covered`);
    }
  }
  let expiresAt = parent.expiresAt;
  if (childConstraints?.expires_at !== undefined) {
    const t = validateExpiresAt(childConstraints.expires_at, now);
    if (parent.expiresAt !== undefined && t > parent.expiresAt) throw violation('expires_at is later than the parent\'s');
    expiresAt = t;
  }
  const constraints = expiresAt !== undefined ? { expires_at: new Date(expiresAt).toISOString() } : undefined;
  return { lease: child, constraints, expiresAt };
}
