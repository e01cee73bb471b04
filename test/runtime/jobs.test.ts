import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArcpClient } from '../../src/client/client.js';
import { connect, failure, startRuntime, until } from '../helpers/runtime.js';

let env: Awaited<ReturnType<typeof startRuntime>>;
let c: ArcpClient;
beforeAll(async () => {
  env = await startRuntime();
  c = await connect(env.url);
});
afterAll(async () => {
  await c.close();
  await env.close();
});


describe('jobs (§7, §8) over WebSocket', () => {
  it('echo: one log event and the input echoed, with gap-free session seqs', async () => {
    const h = c.submit({ agent: 'echo', input: { hello: 'world' } });
    const r = await h.done;
    expect(r.result).toEqual({ echoed: { hello: 'world' } });
    expect(h.events).toEqual([expect.objectContaining({ kind: 'log', body: { level: 'info', message: 'echo' } })]);
    expect(h.accepted).toMatchObject({ agent: 'echo', lease: {}, trace_id: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(c.gaps).toEqual([]);
  });

  it('chatty: every event kind, and a tool the lease does not cover gets PERMISSION_DENIED', async () => {
    const h = c.submit({ agent: 'chatty', input: { dataset: 's3://x' }, lease_request: { 'tool.call': ['stats.*'] } }, { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' });
    expect((await h.done).result).toEqual({ outliers: 3, total_usd: 42000 });
    expect(h.events.map((e) => e.kind)).toEqual(['status', 'log', 'thought', 'metric', 'tool_call', 'tool_result', 'tool_call', 'tool_result', 'artifact_ref', 'x-vendor.acme.note', 'status']);
    const results = h.events.filter((e) => e.kind === 'tool_result').map((e) => e.body);
    expect(results[0]).toMatchObject({ call_id: 'c1', result: { mean: 348.12 } });
    expect(results[1]).toMatchObject({ call_id: 'c2', error: { code: 'PERMISSION_DENIED', retryable: false } });
    expect(h.accepted!.trace_id).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('accepts a full traceparent and carries it as given (§11), on job.accepted and every event', async () => {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const h = c.submit({ agent: 'echo' }, { trace_id: tp });
    await h.done;
    expect(h.accepted!.trace_id).toBe(tp);
    expect(h.messages.filter((m) => m.type !== 'job.accepted').map((m) => m.trace_id)).toEqual(['job.event', 'job.result'].map(() => tp));
  });

  it('progress: total events with current 1..total', async () => {
    const h = c.submit({ agent: 'progress', input: { total: 5, tickMs: 1 } });
    expect((await h.done).result).toEqual({ indexed: 5 });
    expect(h.events.map((e) => e.body)).toEqual([1, 2, 3, 4, 5].map((i) => ({ current: i, total: 5, units: 'files', message: `file-${i}.ts` })));
  });

  it.each(['utf8', 'base64'] as const)('report: a streamed %s result assembles to result_size', async (encoding) => {
    const h = c.submit({ agent: 'report', input: { chunks: 6, chunkBytes: 1000, encoding } });
    const r = await h.done;
    const chunks = h.events.filter((e) => e.kind === 'result_chunk').map((e) => e.body as { chunk_seq: number; data: string; more: boolean; result_id: string });
    expect(chunks.map((x) => x.chunk_seq)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(chunks.map((x) => x.more)).toEqual([true, true, true, true, true, false]);
    const bytes = Buffer.concat(chunks.map((x) => Buffer.from(x.data, encoding)));
    expect(r.result_id).toBe(chunks[0].result_id);
    expect(r.result_size).toBe(bytes.length);
    expect(r.result).toBeUndefined();
  });

  it('result_chunk without the feature fails the job; progress without it is not sent', async () => {
    const p = await connect(env.url, 'tok', { features: ['progress'] });
    const err = await failure(p.submit({ agent: 'report', input: { chunks: 2 } }).done);
    expect(err.code).toBe('INVALID_REQUEST');
    await p.close();
    const q = await connect(env.url, 'tok', { features: [] });
    const h = q.submit({ agent: 'progress', input: { total: 3, tickMs: 1 } });
    await h.done;
    expect(h.events).toEqual([]);
    await q.close();
  });

  it('agent versions: default, pinned, unknown version, unknown agent, bad name', async () => {
    const bare = c.submit({ agent: 'refactor', input: { path: 'x.ts' } });
    expect((await bare.done).result).toMatchObject({ handler: 'v2', agent: 'refactor@2.0.0' });
    expect(bare.accepted!.agent).toBe('refactor@2.0.0');
    const pinned = c.submit({ agent: 'refactor@1.0.0' });
    expect((await pinned.done).result).toMatchObject({ handler: 'v1', version: '1.0.0' });
    expect((await failure(c.submit({ agent: 'refactor@3.0.0' }).done)).code).toBe('AGENT_VERSION_NOT_AVAILABLE');
    expect((await failure(c.submit({ agent: 'nope' }).done)).code).toBe('AGENT_NOT_AVAILABLE');
    expect((await failure(c.submit({ agent: 'Bad_Name' }).done)).code).toBe('INVALID_REQUEST');
  });

  it('idempotency: same key and params → same job.accepted; conflicting params → DUPLICATE_KEY', async () => {
    const key = `weekly-${Date.now()}`;
    const a = c.submit({ agent: 'echo', input: { week: 19 }, idempotency_key: key });
    await a.done;
    const other = await connect(env.url);
    const b = other.submit({ agent: 'echo', input: { week: 19 }, idempotency_key: key });
    await b.acceptedP;
    expect(b.accepted).toEqual(a.accepted);
    const conflict = await failure(other.submit({ agent: 'chatty', input: { week: 19 }, idempotency_key: key }).done);
    expect(conflict.code).toBe('DUPLICATE_KEY');
    expect(conflict.details).toMatchObject({ existing_job_id: a.jobId });
    const bob = await connect(env.url, 'tok2');
    const fresh = bob.submit({ agent: 'echo', input: { week: 19 }, idempotency_key: key });
    await fresh.done;
    expect(fresh.jobId).not.toBe(a.jobId);
    await other.close();
    await bob.close();
  });

  it('cancel: job.cancelled then job.error CANCELLED; unknown job → JOB_NOT_FOUND', async () => {
    const h = c.submit({ agent: 'slow', input: { steps: 600, tickMs: 20 } });
    await h.acceptedP;
    c.cancel(h.jobId!, 'user wants to stop');
    const err = await failure(h.done);
    expect(err.code).toBe('CANCELLED');
    const types = h.messages.map((m) => m.type);
    expect(types.slice(-2)).toEqual(['job.cancelled', 'job.error']);
    expect(h.machine.state).toBe('cancelled');
    const errs: string[] = [];
    c.on('orphan', (m) => errs.push(m.payload.code));
    c.cancel('job_01JZZZZZZZZZZZZZZZZZZZZZZZ');
    await until(() => errs.length > 0, 3000, 'the answer to a cancel of an unknown job');
    expect(errs).toEqual(['JOB_NOT_FOUND']);
  });

  it('max_runtime_sec → TIMEOUT, final_status timed_out, retryable', async () => {
    const h = c.submit({ agent: 'slow', input: { tickMs: 50 }, max_runtime_sec: 0.3 });
    const err = await failure(h.done);
    expect(err.code).toBe('TIMEOUT');
    expect(err.retryable).toBe(true);
    expect(h.machine.state).toBe('timed_out');
  });

  it.each([
    [{}, 'INTERNAL_ERROR', true],
    [{ mode: 'permission' }, 'PERMISSION_DENIED', false],
    [{ mode: 'invalid' }, 'INVALID_REQUEST', false],
    [{ mode: 'code', code: 'X_VENDOR_OOPS' }, 'X_VENDOR_OOPS', false],
  ])('fail %j → %s', async (input, code, retryable) => {
    const err = await failure(c.submit({ agent: 'fail', input }).done);
    expect(err.code).toBe(code);
    expect(err.retryable).toBe(retryable);
  });
});

describe('leases, budget, delegation, credentials (§9, §10)', () => {
  it('budget: remaining metrics, tool_result BUDGET_EXHAUSTED, job.error not retryable', async () => {
    const h = c.submit({ agent: 'budget', input: { iterations: 8, perCallUSD: 0.3 }, lease_request: { 'tool.call': ['search.*'], 'cost.budget': ['USD:1.00'] } });
    const err = await failure(h.done);
    expect(err.code).toBe('BUDGET_EXHAUSTED');
    expect(err.retryable).toBe(false);
    expect(h.accepted!.budget).toEqual({ USD: 1 });
    const remaining = h.events.filter((e) => e.kind === 'metric' && e.body.name === 'cost.budget.remaining').map((e) => e.body.value as number);
    expect(remaining.map((v) => Math.round(v * 100) / 100)).toEqual([0.7, 0.4, 0.1, -0.2]);
    const last = h.events.filter((e) => e.kind === 'tool_result').pop()!;
    expect(last.body).toMatchObject({ call_id: 'call_5', error: { code: 'BUDGET_EXHAUSTED', retryable: false } });
  });

  it('budget with onExhausted "return" ends in a partial result', async () => {
    const h = c.submit({ agent: 'budget', input: { onExhausted: 'return' }, lease_request: { 'tool.call': ['search.*'], 'cost.budget': ['USD:1.00'] } });
    expect((await h.done).result).toMatchObject({ partial: true });
  });

  it('lease expiry: LEASE_EXPIRED mid-job; expires_at in the past → INVALID_REQUEST', async () => {
    const expires = new Date(Date.now() + 400).toISOString();
    const h = c.submit({ agent: 'lease-watch', input: { tickMs: 100 }, lease_request: { 'tool.call': ['index.*'] }, lease_constraints: { expires_at: expires } });
    const err = await failure(h.done);
    expect(err.code).toBe('LEASE_EXPIRED');
    expect(err.retryable).toBe(false);
    expect(h.accepted!.lease_constraints).toEqual({ expires_at: expires });
    expect(h.events.filter((e) => e.kind === 'tool_result').length).toBeGreaterThan(1);
    const past = await failure(c.submit({ agent: 'lease-watch', lease_request: { 'tool.call': ['index.*'] }, lease_constraints: { expires_at: new Date(Date.now() - 60_000).toISOString() } }).done);
    expect(past.code).toBe('INVALID_REQUEST');
  });

  it('delegation: child job with parent_job_id and delegate_id; over-broad delegate → LEASE_SUBSET_VIOLATION', async () => {
    const children: string[] = [];
    c.on('child', (ch) => children.push(ch.jobId));
    const h = c.submit({ agent: 'parent', input: { violate: true, waitMs: 10 }, lease_request: { 'agent.delegate': ['child'], 'fs.read': ['/workspace/app/**'] } }, { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' });
    expect((await h.done).result).toEqual({ delegated: true });
    expect(h.children).toHaveLength(1);
    const child = h.children[0];
    expect(child.accepted).toMatchObject({ parent_job_id: h.jobId, delegate_id: 'del_1', lease: { 'fs.read': ['/workspace/app/tests/**'] }, trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' });
    expect((await child.done).result).toEqual({ passed: 127, failed: 0 });
    const delegates = h.events.filter((e) => e.kind === 'delegate').map((e) => e.body);
    expect(delegates[0]).toMatchObject({ delegate_id: 'del_1', agent: 'child', lease_request: { 'fs.read': ['/workspace/app/tests/**'] } });
    const violation = h.events.find((e) => e.kind === 'tool_result' && e.body.call_id === 'del_bad')!;
    expect(violation.body).toMatchObject({ error: { code: 'LEASE_SUBSET_VIOLATION' } });
  });

  it('model.use: a model outside the lease is PERMISSION_DENIED, one inside is allowed (§9.7)', async () => {
    const lease = { 'model.use': ['tier-fast/*'] };
    expect((await c.submit({ agent: 'llm', input: { model: 'tier-fast/small' }, lease_request: lease }).done).result).toEqual({ model_lease: ['tier-fast/*'] });
    const denied = await failure(c.submit({ agent: 'llm', input: { model: 'tier-slow/big' }, lease_request: lease }).done);
    expect(denied.code).toBe('PERMISSION_DENIED');
    const none = await failure(c.submit({ agent: 'llm', input: { model: 'tier-fast/small' } }).done);
    expect(none.code).toBe('PERMISSION_DENIED');
  });

  it('provisioned credentials: issued at acceptance in the draft shape, revoked at the end', async () => {
    const h = c.submit({ agent: 'llm', lease_request: { 'model.use': ['tier-fast/*'], 'cost.budget': ['USD:2.00'] } });
    const r = await h.done;
    expect(r.result).toEqual({ model_lease: ['tier-fast/*'] });
    const cred = h.accepted!.credentials![0];
    expect(cred).toMatchObject({ scheme: 'bearer', endpoint: 'http://127.0.0.1:9/v1', profile: 'openai', constraints: { 'cost.budget': ['USD:2.00'], 'model.use': ['tier-fast/*'] } });
    expect(env.provisioner.revoked.has(cred.id)).toBe(true);
    expect(env.provisioner.active.has(cred.id)).toBe(false);
    const again = c.submit({ agent: 'llm', lease_request: { 'model.use': ['tier-fast/*'] } });
    await again.done;
    expect(again.accepted!.credentials![0].value).not.toBe(cred.value);
  });
});
