import { basename, resolve } from 'node:path';
import { dialectForPath } from '../llm/dialects.js';
import { parseSse } from '../llm/sse.js';
import { compareFrames, compareValues, type FieldDiff } from '../replay/compare.js';
import { diffTapes } from '../replay/diff.js';
import { IdMap } from '../replay/ids.js';
import type { ReplayReport } from '../replay/report.js';
import { Volatility, type VolatileRules } from '../replay/volatile.js';
import { Fingerprint } from '../tape/fingerprint.js';
import type { Lineage } from '../tape/format.js';
import type { JobIndex } from '../tape/jobs.js';
import { TapeReader } from '../tape/reader.js';
import { readExchange } from './edit.js';
import { resolveStep, tapeSteps, type Step, type TapeSteps } from './steps.js';

/** One step that differs between parent and child. */
export interface StepChange {
  address: string;
  reason: 'changed' | 'missing' | 'extra';
  parent?: { seq: number; what: string };
  child?: { seq: number; what: string };
  fields: FieldDiff[];
}

export interface JobOutcome {
  status: string;
  result?: unknown;
  error?: { code?: string; message?: string };
}

export interface FamilyDiff {
  parent: string;
  child: string;
  /** The tapes were given child first. */
  reversed: boolean;
  fork: { step: string; role?: string; parentSeq?: number; childSeq?: number; edit?: Lineage['edit']; continued?: Lineage['continued'] };
  /** Steps before the fork point that differ (none, for a sound fork). */
  beforeFork: StepChange[];
  /** The first step after the fork point where the child differs. */
  firstDivergence?: StepChange;
  summary: {
    events: { kind: string; parent: number; child: number }[];
    toolCalls: { job: number; parent: string[]; child: string[] }[];
    results: { job: number; parent?: JobOutcome; child?: JobOutcome }[];
    llmCalls: { parent: number; child: number };
  };
}

function fingerprintOf(r: TapeReader): string {
  if (r.meta.fingerprint) return r.meta.fingerprint;
  const fp = new Fingerprint();
  for (const row of r.rows()) fp.add(row.channel, row.dir, row.kind, row.hash);
  return fp.digest();
}

/** `child`'s lineage when it was forked from `parent` (by fingerprint, or by path when the parent was unsealed). */
export function forkedFrom(parent: string, child: string): Lineage | undefined {
  const [p, c] = [TapeReader.open(parent), TapeReader.open(child)];
  try {
    const l = c.meta.lineage;
    if (!l?.step) return undefined;
    if (l.parent_fingerprint && l.parent_fingerprint === fingerprintOf(p)) return l;
    return !l.parent_fingerprint && l.parent && (resolve(l.parent) === resolve(parent) || basename(l.parent) === basename(parent)) ? l : undefined;
  } finally {
    p.close();
    c.close();
  }
}

const json = (b: Buffer): unknown => {
  try {
    return JSON.parse(b.toString('utf8'));
  } catch {
    return b.toString('utf8');
  }
};

/** What a step is made of, to compare: an ARCP frame, or an exchange's request body and (assembled) answer. */
function contentOf(path: string, reader: TapeReader, s: Step): { frame?: Buffer; request?: unknown; answer?: unknown } {
  if (!s.exchange) return { frame: reader.frames({ fromSeq: s.seq, toSeq: s.seq }).next().value?.data };
  const x = readExchange(path, s.exchange.channel);
  const body = x.body;
  const dialect = s.role === 'llm' ? dialectForPath(x.request.path) : undefined;
  let answer: unknown = json(body);
  if (dialect && (x.response?.status ?? 0) < 300) {
    try {
      answer = /^data:|^event:/m.test(body.toString('utf8')) ? dialect.assemble(parseSse(body)).doc : dialect.fromJson(json(body)).doc;
    } catch {
      // compared as recorded
    }
  }
  return { request: { method: x.request.method, path: x.request.path, body: json(x.requestBody) }, answer: { status: x.response?.status, body: answer } };
}

function compareSteps(pp: string, pr: TapeReader, ps: Step, cp: string, cr: TapeReader, cs: Step, vol: Volatility, ids: IdMap): FieldDiff[] {
  const a = contentOf(pp, pr, ps);
  const b = contentOf(cp, cr, cs);
  if (a.frame && b.frame) return compareFrames(a.frame, b.frame, vol, ids).fields.filter((f) => !f.tolerated);
  return compareValues({ request: a.request, answer: a.answer }, { request: b.request, answer: b.answer }, vol, ids).filter((f) => !f.tolerated);
}

function outcomes(index: JobIndex): Map<number, JobOutcome> {
  return new Map(index.jobs.map((j) => [j.n, { status: j.status ?? 'unfinished', ...(j.result !== undefined ? { result: j.result } : {}), ...(j.error ? { error: j.error } : {}) }]));
}

function eventCounts(index: JobIndex): Map<string, number> {
  const m = new Map<string, number>();
  for (const j of index.jobs) for (const e of j.events) m.set(e.kind, (m.get(e.kind) ?? 0) + 1);
  return m;
}

const toolCalls = (index: JobIndex, n: number): string[] => index.jobs[n - 1]?.events.filter((e) => e.kind === 'tool_call').map((e) => e.gist) ?? [];

/** Where the fork step sits in a tape (the child's own address for it). */
function stepIn(t: TapeSteps, address: string): Step | undefined {
  try {
    return resolveStep(t.index, t.steps, address);
  } catch {
    return undefined;
  }
}

/**
 * `arcp diff PARENT CHILD` for a fork: the fork point first (from the child's lineage), then
 * the first step after it where the child differs, then what changed: events by kind, the tool
 * calls, each job's result. Steps are paired by address, so timing frames (acks, pings) and how
 * the writer batched bodies do not count, and identifiers are mapped as in replay.
 */
export function diffFamily(parent: string, child: string, lineage: Lineage, o: { volatile?: VolatileRules; reversed?: boolean } = {}): FamilyDiff {
  const vol = new Volatility(o.volatile);
  const ids = new IdMap();
  const P = tapeSteps(parent);
  const C = tapeSteps(child);
  const forkP = lineage.at_seq ?? 0;
  const cStep = lineage.step ? stepIn(C, lineage.step) : undefined;
  const forkC = cStep?.seq ?? forkP;
  const byAddress = (t: TapeSteps) => new Map(t.steps.map((s) => [s.address, s]));
  const [pa, ca] = [byAddress(P), byAddress(C)];
  const [pr, cr] = [TapeReader.open(parent), TapeReader.open(child)];
  const beforeFork: StepChange[] = [];
  let firstDivergence: StepChange | undefined;
  try {
    // In the child's order: the first thing the new run did differently.
    for (const cs of C.steps) {
      const ps = pa.get(cs.address);
      const isFork = cs.address === lineage.step;
      const after = cs.seq > forkC || (cs.seq === forkC && !isFork);
      if (isFork) {
        if (ps) compareSteps(parent, pr, ps, child, cr, cs, vol, ids); // learns the identifiers it holds
        continue;
      }
      const change: StepChange | undefined = !ps
        ? { address: cs.address, reason: 'extra', child: { seq: cs.seq, what: cs.what }, fields: [] }
        : (() => {
            const fields = compareSteps(parent, pr, ps, child, cr, cs, vol, ids);
            return fields.length ? { address: cs.address, reason: 'changed' as const, parent: { seq: ps.seq, what: ps.what }, child: { seq: cs.seq, what: cs.what }, fields } : undefined;
          })();
      if (!change) continue;
      if (!after) beforeFork.push(change);
      else if (!firstDivergence) firstDivergence = change;
    }
    if (!firstDivergence) {
      const gone = P.steps.find((s) => s.seq > forkP && !ca.has(s.address));
      if (gone) firstDivergence = { address: gone.address, reason: 'missing', parent: { seq: gone.seq, what: gone.what }, fields: [] };
    }
  } finally {
    pr.close();
    cr.close();
  }
  const [ep, ec] = [eventCounts(P.index), eventCounts(C.index)];
  const [op, oc] = [outcomes(P.index), outcomes(C.index)];
  const jobs = Math.max(P.index.jobs.length, C.index.jobs.length);
  const nums = Array.from({ length: jobs }, (_, i) => i + 1);
  return {
    parent,
    child,
    reversed: o.reversed ?? false,
    fork: { step: lineage.step ?? `seq:${forkP}`, role: lineage.step_role, parentSeq: lineage.at_seq, childSeq: cStep?.seq, edit: lineage.edit, continued: lineage.continued },
    beforeFork,
    firstDivergence,
    summary: {
      events: [...new Set([...ep.keys(), ...ec.keys()])].map((kind) => ({ kind, parent: ep.get(kind) ?? 0, child: ec.get(kind) ?? 0 })),
      toolCalls: nums.map((n) => ({ job: n, parent: toolCalls(P.index, n), child: toolCalls(C.index, n) })),
      results: nums.map((n) => ({ job: n, parent: op.get(n), child: oc.get(n) })),
      llmCalls: { parent: P.steps.filter((s) => s.role === 'llm').length, child: C.steps.filter((s) => s.role === 'llm').length },
    },
  };
}

/** `arcp diff A B`: a fork-aware report when one tape was forked from the other, the plain first divergence otherwise. */
export function diffAny(a: string, b: string, o: { volatile?: VolatileRules; keepGoing?: boolean } = {}): { family?: FamilyDiff; plain?: ReplayReport } {
  const down = forkedFrom(a, b);
  if (down) return { family: diffFamily(a, b, down, o) };
  const up = forkedFrom(b, a);
  if (up) return { family: diffFamily(b, a, up, { ...o, reversed: true }) };
  return { plain: diffTapes(a, b, o) };
}
