import type { ConformReport } from '../../src/conform/report.js';
import { runServerSuite } from '../../src/conform/server/run.js';
import { wsTarget } from '../../src/conform/server/target.js';
import { StrangerRuntime, type StrangerOptions } from './peers/stranger-runtime.js';

export const TOKENS = { tok: 'alice', tok2: 'bob', aud: 'auditor' };
export const strangerOptions = (): StrangerOptions => ({ tokens: TOKENS, observers: { auditor: ['alice'] }, heartbeatSec: 0.5 });

/** Runs the whole server suite (no tapes: these runs judge verdicts) against a runtime class. */
export async function suiteAgainst(Make: new (o: StrangerOptions) => StrangerRuntime, extra: Partial<Parameters<typeof runServerSuite>[0]> = {}): Promise<ConformReport> {
  const rt = new Make(strangerOptions());
  const url = await rt.start();
  try {
    return await runServerSuite({ target: wsTarget(url), token: 'tok', token2: 'tok2', observerToken: 'aud', tapes: false, jobs: 8, ...extra });
  } finally {
    await rt.stop();
  }
}

/** A one-line view of each check that did not simply pass. */
export const notPassing = (r: ConformReport): string[] => r.checks.filter((c) => c.status !== 'pass').map((c) => `${c.status} ${c.id}: ${c.reason}`);

/** How bad a check came out: a warning that only names forms the draft does not use counts below a real one. */
export function severity(c: import('../../src/conform/report.js').CheckResult): number {
  if (c.status === 'fail') return 3;
  if (c.status !== 'warning') return 0;
  return c.findings.some((f) => f.outcome === 'warning' && !f.deviation) ? 2 : 1;
}

/** The checks that came out worse than in the faithful run: what a broken variant was caught by. */
export function worseThan(base: import('../../src/conform/report.js').ConformReport, r: import('../../src/conform/report.js').ConformReport) {
  const b = new Map(base.checks.map((c) => [c.id, c]));
  return r.checks.filter((c) => severity(c) > severity(b.get(c.id)!));
}
