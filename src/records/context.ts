import { at, json, type RecordBuilder, type Timed } from './build.js';
import type { Job, Ledger } from './ledger.js';
import type { FrameRef } from './schema.js';
import { shownSecret } from './secrets.js';
import type { Msg } from './walk.js';

export const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
export const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** What every record derived from ARCP frames needs: the tape's fingerprint, its short form for ids, and the ledger. */
export interface Context {
  fingerprint: string;
  ledger: Ledger;
  sealed: boolean;
}

export const recordId = (c: Context, ...key: string[]) => `${c.fingerprint.slice(4, 20)}:${key.join(':')}`;
export const agentOf = (job: Job) => str(job.known.payload.agent) ?? job.submit?.agent ?? '?';
export const noOutcome = (c: Context, what: string, last: Timed) => ({
  name: 'NoOutcome',
  message: `the tape holds no outcome of ${what}; last seen at seq ${last.seq}${c.sealed ? '' : ' (the tape is unsealed: its recording did not finish)'}`,
});

type Attr = [key: string, value: string | number | boolean | undefined, refs: (FrameRef | undefined)[]];

/** Session, principal and client of a session, as the wire names them. */
function sessionList(c: Context, sessionId: string, fallback: Msg): Attr[] {
  const s = c.ledger.session(sessionId);
  const out: Attr[] = [];
  if (!sessionId.startsWith('channel ')) out.push(['arcp.session_id', sessionId, [s?.welcome ? at(s.welcome, '/session_id') : at(fallback, '/session_id')]]);
  const hello = s?.hello;
  const auth = obj(hello?.payload.auth);
  const token = str(auth.token);
  if (hello && token) out.push(['arcp.principal', `${str(auth.scheme) ?? 'bearer'} ${shownSecret(token)}`, [at(hello, '/payload/auth')]]);
  const client = obj(hello?.payload.client);
  if (hello && str(client.name)) out.push(['arcp.client', `${client.name}${str(client.version) ? `@${client.version}` : ''}`, [at(hello, '/payload/client')]]);
  return out;
}

export function sessionAttrs(b: RecordBuilder, c: Context, sessionId: string, fallback: Msg): void {
  for (const [k, v, refs] of sessionList(c, sessionId, fallback)) b.attr(k, v, ...refs);
}

/** Each job's bounding attributes, worked out once: every record of the job carries them. */
const jobLists = new WeakMap<Job, Attr[]>();

function jobList(c: Context, job: Job): Attr[] {
  const k = job.known;
  const trace = str(k.payload.trace_id) ?? str(k.env.trace_id);
  const out: Attr[] = [
    ['arcp.job_id', job.id, [at(k, k.env.job_id !== undefined ? '/job_id' : '/payload/job_id')]],
    ['arcp.agent', agentOf(job), [at(k, '/payload/agent')]],
    ['arcp.trace_id', trace, [at(k, k.payload.trace_id !== undefined ? '/payload/trace_id' : '/trace_id')]],
    ...sessionList(c, job.session, k),
  ];
  if (k.payload.lease !== undefined) out.push(['arcp.lease', json(k.payload.lease), [at(k, '/payload/lease')]]);
  if (k.payload.lease_constraints !== undefined) out.push(['arcp.lease_constraints', json(k.payload.lease_constraints), [at(k, '/payload/lease_constraints')]]);
  for (const [cur, v] of Object.entries(obj(k.payload.budget))) if (typeof v === 'number') out.push([`arcp.budget.${cur}`, v, [at(k, `/payload/budget/${cur}`)]]);
  if (job.parent) out.push(['arcp.parent_job_id', job.parent.id, [at(k, '/payload/parent_job_id')]]);
  return out;
}

/** What bounded an action of a job: the job, its trace, session, principal, lease and budget. */
export function jobAttrs(b: RecordBuilder, c: Context, job: Job): void {
  let list = jobLists.get(job);
  if (!list) jobLists.set(job, (list = jobList(c, job)));
  for (const [k, v, refs] of list) b.attr(k, v, ...refs);
}

export function remainingAttrs(b: RecordBuilder, remaining: Map<string, Msg>): void {
  for (const [cur, m] of remaining) {
    const v = obj(m.payload.body).value;
    if (typeof v === 'number') b.attr(`arcp.budget_remaining.${cur}`, v, at(m, '/payload/body/value'));
  }
}

/** The v1.0-form and other notes of the frames an action came from, once each. */
export const notes = (...ms: (Msg | undefined)[]) => [...new Set(ms.flatMap((m) => m?.notes ?? []))].join('; ') || undefined;
