import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Transport } from '../../src/engine/transport/transport.js';
import { BIN } from '../helpers/cli.js';
import { inProcess } from '../helpers/in-process.js';
import { startRuntime } from '../helpers/runtime.js';

let rt: Awaited<ReturnType<typeof startRuntime>>;
/** Every message the runtime received, parsed, in order. */
const got: { type: string; payload: Record<string, unknown> }[] = [];
beforeAll(async () => {
  rt = await startRuntime();
  const attach = rt.rt.attach.bind(rt.rt);
  rt.rt.attach = (t: Transport) => {
    t.onFrame((f) => got.push(JSON.parse(String(f.data))));
    attach(t);
  };
});
afterAll(() => rt.close());

/** `arcp submit --url RUNTIME --token tok ARGS` in this process; the messages the runtime got from it. */
async function submit(args: string[]) {
  const from = got.length;
  const r = await inProcess(['submit', '--url', rt.url, '--token', 'tok', ...args]);
  return { ...r, received: got.slice(from) };
}
const jobIdOf = (stdout: string) => /accepted (job_\S+)/.exec(stdout)?.[1];

describe('arcp submit: each flag does what --help says', () => {
  it('-- <runtime command>: spawns the runtime and speaks to it on its stdio', async () => {
    const r = await inProcess(['submit', '--token', 'tok', '--agent', 'echo', '--input', '{"n":5}', '--', process.execPath, BIN, 'serve', '--stdio', '--token', 'tok=alice']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/result\s+\{"echoed":\{"n":5\}\}/);
  });

  it('ARCP_URL and ARCP_TOKEN in the environment stand for --url and --token', async () => {
    // Neither flag given (--token is required): both came from the environment.
    const r = await execa(process.execPath, [BIN, 'submit', '--agent', 'echo', '--input', '{"n":7}'], { reject: false, env: { NO_COLOR: '1', ARCP_URL: rt.url, ARCP_TOKEN: 'tok' } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/result\s+\{"echoed":\{"n":7\}\}/);
    expect(got.find((m) => m.type === 'session.hello')!.payload.auth).toMatchObject({ token: 'tok' });
  });

  it('--expires-at is the lease_constraints.expires_at the runtime judges', async () => {
    const at = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const ok = await submit(['--agent', 'echo', '--expires-at', at]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.received.find((m) => m.type === 'job.submit')!.payload.lease_constraints).toEqual({ expires_at: at });
    const past = await submit(['--agent', 'echo', '--expires-at', '2020-01-01T00:00:00Z']);
    expect(past.code).toBe(1);
    expect(past.stdout).toMatch(/INVALID_REQUEST.*expires_at MUST be in the future/);
  });

  it('--idempotency-key: the same key is the same job; another key another job', async () => {
    const a = await submit(['--agent', 'echo', '--idempotency-key', 'k-1']);
    const b = await submit(['--agent', 'echo', '--idempotency-key', 'k-1']);
    const c = await submit(['--agent', 'echo', '--idempotency-key', 'k-2']);
    expect(a.received.find((m) => m.type === 'job.submit')!.payload.idempotency_key).toBe('k-1');
    expect(jobIdOf(a.stdout)).toBeTruthy();
    expect(jobIdOf(b.stdout)).toBe(jobIdOf(a.stdout));
    expect(jobIdOf(c.stdout)).not.toBe(jobIdOf(a.stdout));
  });

  it('--max-runtime: a job running longer ends in TIMEOUT, exit 1', async () => {
    const r = await submit(['--agent', 'slow', '--input', '{"steps":600,"tickMs":50}', '--max-runtime', '1']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/error\s+TIMEOUT \(timed_out\): Job exceeded max_runtime_sec=1/);
  });

  it('returns once the job is done: no timer of its close keeps the process alive (it held `arcp submit` 2 s)', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    for (const form of ['draft', 'wire']) expect((await submit(['--agent', 'echo', '--form', form])).code).toBe(0);
    expect(timers()).toBeLessThanOrEqual(before);
  });

  it('--form wire closes with session.bye; the default (draft) with session.close', async () => {
    const wire = await submit(['--agent', 'echo', '--form', 'wire']);
    const draft = await submit(['--agent', 'echo']);
    expect(wire.code).toBe(0);
    const closes = (r: typeof wire) => r.received.map((m) => m.type).filter((t) => t === 'session.bye' || t === 'session.close');
    expect(closes(wire)).toEqual(['session.bye']);
    expect(closes(draft)).toEqual(['session.close']);
  });
});
