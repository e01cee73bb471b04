import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArcpError } from '../../src/engine/errors.js';
import type { WebSocketTransport } from '../../src/engine/transport/websocket.js';
import { connect, failure, sleep, startRuntime, until } from '../helpers/runtime.js';

let env: Awaited<ReturnType<typeof startRuntime>>;
beforeAll(async () => {
  env = await startRuntime({ backPressureLag: 100, resumeWindowSec: 5 });
});
afterAll(() => env.close());


describe('list_jobs, subscribe and principal isolation (§6.6, §7.6, §14)', () => {
  it('lists with filter, limit and cursor; another principal sees nothing', async () => {
    const a = await connect(env.url);
    const tag = `slow-${Date.now()}`;
    const jobs = [0, 1, 2].map((i) => a.submit({ agent: 'slow', input: { steps: 600, tickMs: 50, i, tag } }));
    await Promise.all(jobs.map((j) => j.acceptedP));
    const done = a.submit({ agent: 'echo' });
    await done.done;
    const p1 = await a.listJobs({ filter: { status: ['running'], agent: 'slow' }, limit: 2 });
    expect(p1.jobs.map((j) => j.job_id)).toEqual([jobs[0].jobId, jobs[1].jobId]);
    expect(p1.next_cursor).toBeTruthy();
    expect(p1.jobs[0]).toMatchObject({ agent: 'slow', status: 'running', lease: {}, parent_job_id: null, trace_id: expect.any(String), last_event_seq: expect.any(Number) });
    const p2 = await a.listJobs({ filter: { status: ['running'], agent: 'slow' }, limit: 2, cursor: p1.next_cursor });
    expect(p2.jobs.map((j) => j.job_id)).toEqual([jobs[2].jobId]);
    expect(p2.next_cursor).toBeNull();
    const finished = await a.listJobs({ filter: { status: ['success'] } });
    expect(finished.jobs.map((j) => j.job_id)).toContain(done.jobId);
    const later = await a.listJobs({ filter: { created_after: new Date(Date.now() + 60_000).toISOString() } });
    expect(later.jobs).toEqual([]);
    const bob = await connect(env.url, 'tok2');
    expect((await bob.listJobs()).jobs).toEqual([]);
    expect((await failure(bob.subscribe(jobs[0].jobId!, { history: true }))).code).toBe('PERMISSION_DENIED');
    expect((await failure(bob.subscribe('job_nope'))).code).toBe('JOB_NOT_FOUND');
    for (const j of jobs) a.cancel(j.jobId!);
    await Promise.allSettled(jobs.map((j) => j.done));
    await bob.close();
    await a.close();
  });

  it('list_jobs without the feature → session.error INVALID_REQUEST', async () => {
    const c = await connect(env.url, 'tok', { features: ['progress'] });
    expect((await failure(c.listJobs())).code).toBe('INVALID_REQUEST');
    await c.close();
  });

  it('subscribe: descriptor, history then live, no cancel authority; credentials only for the submitter', async () => {
    const a = await connect(env.url);
    const h = a.submit({ agent: 'ticker', input: { ticks: 6, tickMs: 60 }, lease_request: { 'model.use': ['tier-fast/*'], 'cost.budget': ['USD:3.00'] } });
    await h.acceptedP;
    await until(() => h.events.length >= 2, 3000, 'two events');
    const b = await connect(env.url); // same principal, another session
    const sub = await b.subscribe(h.jobId!, { history: true });
    const bDone = await sub.done;
    expect(bDone.result).toEqual({ ticks: 6 });
    expect(sub.events.map((e) => e.kind)).toEqual(h.events.map((e) => e.kind));
    expect(b.gaps).toEqual([]);
    // The auditor may observe alice's jobs by policy, but never sees credentials.
    const llm = a.submit({ agent: 'llm', lease_request: { 'model.use': ['tier-fast/*'] } });
    await llm.done;
    const slow = a.submit({ agent: 'slow', input: { tickMs: 50 }, lease_request: { 'model.use': ['m/*'] } });
    await slow.acceptedP;
    const aud = await connect(env.url, 'aud');
    const descriptors: Record<string, unknown>[] = [];
    aud.on('frame', (d) => d.ok && d.message.type === 'job.subscribed' && descriptors.push(d.message.payload));
    await aud.subscribe(slow.jobId!);
    expect(descriptors[0]).toMatchObject({ job_id: slow.jobId, current_status: 'running', agent: 'slow', lease: { 'model.use': ['m/*'] }, parent_job_id: null, replayed: false });
    const audList = await aud.listJobs();
    expect(audList.jobs.find((j) => j.job_id === llm.jobId)!.credentials).toBeUndefined();
    expect((await a.listJobs()).jobs.find((j) => j.job_id === llm.jobId)!.credentials).toHaveLength(1);
    // Subscription confers no cancel authority.
    const errs: string[] = [];
    aud.jobs.get(slow.jobId!)!.onMessage((m) => m.type === 'job.error' && errs.push(m.payload.code));
    aud.cancel(slow.jobId!);
    await until(() => errs.length > 0, 2000, 'cancel refusal');
    expect(errs[0]).toBe('PERMISSION_DENIED');
    a.cancel(slow.jobId!);
    await failure(slow.done);
    await Promise.all([a.close(), b.close(), aud.close()]);
  });
});

describe('ack, back-pressure and resume (§6.3, §6.5)', () => {
  it('a consumer that does not ack gets one back_pressure status; acks are accepted', async () => {
    const c = await connect(env.url);
    const h = c.submit({ agent: 'flood', input: { count: 300 } });
    await h.done;
    const bp = h.events.filter((e) => e.kind === 'status' && e.body.phase === 'back_pressure');
    expect(bp).toHaveLength(1);
    expect(String(bp[0].body.message)).toMatch(/lag 101 exceeds threshold 100/);
    c.ack();
    const h2 = c.submit({ agent: 'flood', input: { count: 50 } });
    await h2.done;
    expect(h2.events.some((e) => e.body.phase === 'back_pressure')).toBe(false);
    await c.close();
  });

  it.each(['draft', 'wire'] as const)('resumes after a dropped socket (%s form): same session, rotated token, no gap', async (form) => {
    const c = await connect(env.url, 'tok', { form });
    const h = c.submit({ agent: 'ticker', input: { ticks: 8, tickMs: 40 } });
    await until(() => h.events.length >= 3, 3000, 'three events');
    const before = { session: c.sessionId, token: c.resumeToken, seq: c.lastEventSeq };
    (c.current as WebSocketTransport).terminate();
    await sleep(150); // away while the job ticks on: the scenario, not a wait for an answer
    await c.resume();
    expect(c.sessionId).toBe(before.session);
    expect(c.resumeToken).not.toBe(before.token);
    expect((await h.done).result).toEqual({ ticks: 8 });
    const seqs = h.messages.filter((m) => m.event_seq !== undefined).map((m) => m.event_seq!);
    const unique = [...new Set(seqs)];
    expect(unique).toEqual(Array.from({ length: unique.length }, (_, i) => unique[0] + i));
    expect(c.gaps).toEqual([]);
    // The old token is spent: resuming with it is refused.
    const e = await connect(env.url, 'tok', { form });
    Object.assign(e, { sessionId: before.session, resumeToken: before.token, lastEventSeq: 0 });
    expect(((await e.resume().catch((x) => x)) as ArcpError).code).toBe('RESUME_WINDOW_EXPIRED');
    await c.close();
  });

  it('a stale resume token → RESUME_WINDOW_EXPIRED', async () => {
    const c = await connect(env.url, 'tok', { form: 'wire' });
    const oldToken = c.resumeToken;
    await c.close();
    const d = await connect(env.url, 'tok', { form: 'wire' });
    (d as unknown as { sessionId: string }).sessionId = c.sessionId!;
    (d as unknown as { resumeToken: string }).resumeToken = 'rt_wrong' + oldToken;
    const err = (await d.resume().catch((e) => e)) as ArcpError;
    expect(err.code).toBe('RESUME_WINDOW_EXPIRED');
  });
});
