import { requirement, type Level } from './requirements.js';
import type { Exchange } from './exchange.js';
import type { Judge } from './verdict.js';

/** What a check needs before it can judge anything; a missing need skips it with the reason. */
export interface Needs {
  /** Features the runtime must support (negotiated in the check's own hello). */
  features?: readonly string[];
  /** Conformance-profile agents (shared/spec/conformance-agents.md) the runtime must host. */
  agents?: readonly string[];
  /** A second principal (`--token2`). */
  secondPrincipal?: boolean;
  /** A principal the runtime lets observe --token's jobs (`--observer-token`). */
  observer?: boolean;
  /** More than one connection to the same runtime (not possible over stdio: one process, one connection). */
  reconnect?: boolean;
}

interface CheckBase {
  /** Stable hierarchical id: `session/resume/gap-free-replay`. */
  id: string;
  title: string;
  /** Requirement ids (requirements.json) this check judges. */
  requirements: string[];
  /** What it does, in a sentence or two: for `conform list` and the docs. */
  description: string;
}

/** A server check: the suite is the client and runs `run`, judging as it goes. */
export interface ServerCheck<Ctx = unknown> extends CheckBase {
  kind: 'server';
  needs?: Needs;
  /** Rough time it needs (ms), from what the probe learnt; longer than --timeout skips it. */
  estimateMs?: (probe: { heartbeatSec?: number; resumeWindowSec?: number }) => number;
  run(ctx: Ctx): Promise<void>;
}

/** A client check: judges the exchange of the scenarios it names (the suite played the runtime). */
export interface ClientCheck<Run = unknown> extends CheckBase {
  kind: 'client';
  scenarios: string[];
  judge(runs: Run[], j: Judge): void;
}

export type Side = 'runtime' | 'client';

/** What a wire check judges: whose obligations, and in which kind of run. */
export interface WireScope {
  subjects: ReadonlySet<Side>;
  /** `server` / `client`: live runs, whose own checks judge some rules; `tape`: recorded traffic only. */
  mode: 'server' | 'client' | 'tape';
}

/** A passive check over recorded traffic: tapes, and every exchange of a server or client run. */
export interface WireCheck extends CheckBase {
  kind: 'wire';
  /** The sides whose obligations it can judge. */
  subjects: Side[];
  /** `tape` only: checks that name forms the live suites judge in their own checks. */
  tapeOnly?: boolean;
  /** Names forms of either side whatever the subjects asked for (it warns, never fails). */
  bothSides?: boolean;
  /** The subjects it judges in live runs, where the active checks own the rest (default: all of `subjects`). */
  live?: Side[];
  judge(exchanges: Exchange[], j: Judge, scope: WireScope): void;
}

export type AnyCheck = ServerCheck<never> | ClientCheck<never> | WireCheck;

const RANK: Record<Level, number> = { MUST: 3, 'MUST NOT': 3, SHOULD: 2, 'SHOULD NOT': 2, MAY: 1 };

/** A check's level: the strongest of its requirements' levels. */
export function levelOf(c: { requirements: string[] }): 'MUST' | 'SHOULD' | 'MAY' {
  const top = Math.max(...c.requirements.map((r) => RANK[requirement(r).level]));
  return top === 3 ? 'MUST' : top === 2 ? 'SHOULD' : 'MAY';
}

/** Sections a check judges, for grouping reports by §. */
export const sectionsOf = (c: { requirements: string[] }): string[] => [...new Set(c.requirements.map((r) => requirement(r).section))];
