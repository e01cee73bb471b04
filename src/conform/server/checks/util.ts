import type { ServerCheck } from '../../check.js';
import type { LoggedFrame, Msg } from '../../exchange.js';
import { WaitTimeout, type Received } from '../../peer.js';
import type { EvidenceRef, Judge } from '../../verdict.js';
import type { ServerContext } from '../context.js';
import type { SubmitOutcome, SuiteSession } from '../session.js';

export type Check = ServerCheck<ServerContext>;

/** Evidence from received messages and logged frames. */
export const ev = (...rs: (Received | LoggedFrame | undefined)[]): EvidenceRef[] => rs.map((r) => (r === undefined ? undefined : 'frame' in r ? r.frame : r));

export const codeOf = (r: Received | undefined): string | undefined => r?.msg.payload?.code;

/** `job.error DUPLICATE_KEY`, `session.welcome`, … */
export const what = (r: Received | undefined): string => (r ? `${r.msg.type}${codeOf(r) ? ` ${codeOf(r)}` : ''}` : 'nothing');

/** Awaits `p`; a WaitTimeout becomes `undefined` (the caller judges the absence). */
export async function orNothing<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof WaitTimeout) return undefined;
    throw e;
  }
}

/** A job that must be accepted for the check to go on; a rejection is a precondition not reached. */
export async function accepted(ctx: ServerContext, s: SuiteSession, payload: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<SubmitOutcome & { jobId: string; accepted: Received }> {
  let out: SubmitOutcome;
  try {
    out = await s.submit(payload, extra);
  } catch (e) {
    if (e instanceof WaitTimeout) return ctx.skip(`precondition: no answer to job.submit ${payload.agent as string} within ${(ctx.waitMs / 1000).toFixed(0)} s`);
    throw e;
  }
  if (!out.accepted) return ctx.skip(`precondition: job.submit ${payload.agent as string} was refused (${what(out.rejected)}: ${out.rejected?.msg.payload.message ?? ''})`);
  return out as SubmitOutcome & { jobId: string; accepted: Received };
}

/**
 * A rejection of a submit is judged on its code; the v1.0 form (`session.error` rather than a
 * `job.error`) is accepted with a named warning.
 */
export function judgeRejection(j: Judge, out: SubmitOutcome, req: string, code: string, why: string): void {
  const r = out.rejected;
  if (!r) {
    j.violation(req, `${why}: the runtime accepted the job (${what(out.accepted)})`, ev(out.sent, out.accepted));
    return;
  }
  j.expect(codeOf(r) === code, req, `${why}: ${what(r)}`, `${why}: ${what(r)}, expected ${code}`, ev(out.sent, r));
  if (r.msg.type === 'session.error') j.deviation('3/job-terminates', 'v1.0 form', `${code} arrived as session.error, not as job.error`, ...ev(r));
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Events of a job as (kind, body) pairs, for comparing streams across sessions. */
export const eventKey = (m: Msg): string => JSON.stringify([m.payload.kind, m.payload.ts, m.payload.body]);

export const isoIn = (ms: number): string => new Date(Date.now() + ms).toISOString();
