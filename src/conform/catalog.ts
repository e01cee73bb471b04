import { CLIENT_CHECKS } from './client/checks.js';
import { levelOf, sectionsOf, type AnyCheck } from './check.js';
import { compareSections, REQUIREMENTS, type Requirement } from './requirements.js';
import { SERVER_CHECKS } from './server/checks/index.js';
import { WIRE_CHECKS } from './wire/index.js';

/** Every check the tool has: server, client, wire. */
export const ALL_CHECKS: AnyCheck[] = [...SERVER_CHECKS, ...CLIENT_CHECKS, ...WIRE_CHECKS] as AnyCheck[];

export interface ListedCheck {
  id: string;
  kind: AnyCheck['kind'];
  title: string;
  level: 'MUST' | 'SHOULD' | 'MAY';
  sections: string[];
  requirements: string[];
  description: string;
  /** Where it runs: `server`, `client`, `tape`. */
  suites: ('server' | 'client' | 'tape')[];
  needs?: Record<string, unknown>;
  scenarios?: string[];
}

function suitesOf(c: AnyCheck): ListedCheck['suites'] {
  if (c.kind === 'server') return ['server'];
  if (c.kind === 'client') return ['client'];
  const live: ListedCheck['suites'] = c.tapeOnly ? [] : (c.live ?? c.subjects).map((s) => (s === 'runtime' ? 'server' : 'client'));
  return [...live, 'tape'];
}

/** `arcp conform list`: the checks of one suite (or all). */
export function listChecks(suite?: 'server' | 'client' | 'tape'): ListedCheck[] {
  return ALL_CHECKS.map((c): ListedCheck => {
    const l: ListedCheck = { id: c.id, kind: c.kind, title: c.title, level: levelOf(c), sections: sectionsOf(c), requirements: c.requirements, description: c.description, suites: suitesOf(c) };
    if (c.kind === 'server' && c.needs) l.needs = { ...c.needs };
    if (c.kind === 'client') l.scenarios = c.scenarios;
    return l;
  }).filter((c) => !suite || c.suites.includes(suite));
}

export interface CoverageRow {
  requirement: Requirement;
  checks: string[];
  /** covered: judged by a check; not-observable: marked with a reason; uncovered: neither. */
  state: 'covered' | 'not-observable' | 'uncovered';
}

export interface Coverage {
  spec: typeof REQUIREMENTS.spec;
  rows: CoverageRow[];
  /** Share of the wire-observable requirements a check judges, overall and per level. */
  share: { all: number; MUST: number; SHOULD: number; MAY: number };
  counts: { requirements: number; observable: number; covered: number; notObservable: number; uncovered: number };
}

const family = (l: Requirement['level']): 'MUST' | 'SHOULD' | 'MAY' => (l.startsWith('MUST') ? 'MUST' : l.startsWith('SHOULD') ? 'SHOULD' : 'MAY');

/** `arcp conform coverage`: every requirement, the checks that judge it, and the share covered. */
export function coverage(): Coverage {
  const by = new Map<string, string[]>();
  for (const c of ALL_CHECKS) for (const r of c.requirements) by.set(r, [...(by.get(r) ?? []), c.id]);
  const rows = REQUIREMENTS.requirements
    .map((r): CoverageRow => ({ requirement: r, checks: by.get(r.id) ?? [], state: r.not_observable ? 'not-observable' : by.has(r.id) ? 'covered' : 'uncovered' }))
    .sort((a, b) => compareSections(a.requirement.section, b.requirement.section));
  const observable = rows.filter((r) => r.state !== 'not-observable');
  const share = (f?: 'MUST' | 'SHOULD' | 'MAY') => {
    const pool = observable.filter((r) => !f || family(r.requirement.level) === f);
    return pool.length ? pool.filter((r) => r.state === 'covered').length / pool.length : 1;
  };
  return {
    spec: REQUIREMENTS.spec,
    rows,
    share: { all: share(), MUST: share('MUST'), SHOULD: share('SHOULD'), MAY: share('MAY') },
    counts: { requirements: rows.length, observable: observable.length, covered: rows.filter((r) => r.state === 'covered').length, notObservable: rows.length - observable.length, uncovered: rows.filter((r) => r.state === 'uncovered').length },
  };
}
