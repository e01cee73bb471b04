import { describe, expect, it } from 'vitest';
import { connect, failure, until } from '../helpers/runtime.js';
import { start } from '../helpers/in-process.js';

/** `arcp serve ARGS` in this process; resolves once it printed where it listens. */
async function serving(args: string[]) {
  const run = start(['serve', '--port', '0', ...args]);
  await until(() => /ARCP_URL=\S+\n/.test(run.stdout()) || run.stderr() !== '', 5000, 'serve to print ARCP_URL');
  return { run, url: /ARCP_URL=(\S+)/.exec(run.stdout())?.[1] ?? '' };
}

describe('arcp serve: each flag does what --help says', () => {
  it('without --token it generates one for principal "dev", prints it, and takes only it; --verbose logs sessions', async () => {
    const { run, url } = await serving(['--verbose']);
    const token = /ARCP_TOKEN=([0-9a-f]{24})\n/.exec(run.stdout())?.[1];
    expect(token, run.stdout()).toBeTruthy();
    const c = await connect(url, token);
    expect((await c.submit({ agent: 'echo', input: { n: 1 } }).done).result).toEqual({ echoed: { n: 1 } });
    await c.close();
    expect((await failure(connect(url, 'not-the-token'))).code).toBe('UNAUTHENTICATED');
    const r = await run.stop();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^arcp serve: session sess_\S+ opened for dev$/m);
    // Another run, another token; without --verbose, nothing on stderr.
    const again = await serving([]);
    expect(/ARCP_TOKEN=(\S+)/.exec(again.run.stdout())?.[1]).not.toBe(token);
    await (await connect(again.url, /ARCP_TOKEN=(\S+)/.exec(again.run.stdout())![1])).close();
    expect((await again.run.stop()).stderr).toBe('');
  });

  it('--observe, --heartbeat-interval, --resume-window, --back-pressure-lag, --max-frame-bytes, --credentials-endpoint', async () => {
    const { run, url } = await serving([
      ...['--token', 'tok=alice', '--token', 'aud=auditor', '--token', 'eve=eve', '--observe', 'auditor=alice'],
      ...['--heartbeat-interval', '1', '--resume-window', '9', '--back-pressure-lag', '5', '--max-frame-bytes', '2048'],
      ...['--credentials-endpoint', 'http://creds.test:4000/v1'],
    ]);
    const alice = await connect(url, 'tok');
    const pinged = new Promise((r) => alice.once('ping', r));
    expect(alice.welcome).toMatchObject({ heartbeat_interval_sec: 1, resume_window_sec: 9 });

    // No acks from this client: more than 5 events behind is one back_pressure status.
    const flood = alice.submit({ agent: 'progress', input: { total: 12, tickMs: 1 } });
    await flood.done;
    const bp = flood.events.filter((e) => e.kind === 'status' && (e.body as { phase: string }).phase === 'back_pressure');
    expect(bp.map((e) => (e.body as { message: string }).message)).toEqual(['event_seq lag 6 exceeds threshold 5']);

    const llm = alice.submit({ agent: 'llm' });
    await llm.done;
    const accepted = llm.messages.find((m) => m.type === 'job.accepted')!;
    expect((accepted.payload as { credentials: { endpoint: string }[] }).credentials.map((x) => x.endpoint)).toEqual(['http://creds.test:4000/v1']);

    // A frame over 2048 bytes is refused; the default (4 MiB) would take it.
    const big = await failure(alice.submit({ agent: 'echo', input: { pad: 'x'.repeat(3000) } }).done);
    expect(big).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringMatching(/exceeds the 2048-byte limit/) });
    expect((await alice.submit({ agent: 'echo', input: { pad: 'x'.repeat(1000) } }).done).result).toMatchObject({ echoed: { pad: expect.any(String) } });

    const auditor = await connect(url, 'aud');
    const eve = await connect(url, 'eve');
    expect((await auditor.listJobs()).jobs.map((j) => j.job_id)).toContain(flood.jobId);
    expect((await eve.listJobs()).jobs).toEqual([]);
    // Heartbeats at the interval asked: a ping within about a second.
    await pinged;
    for (const c of [alice, auditor, eve]) await c.close();
    expect((await run.stop()).code).toBe(0);
  });

  it('--host: it listens at the name given and prints that name', async () => {
    const { run, url } = await serving(['--host', 'localhost', '--token', 'tok=alice']);
    expect(url).toMatch(/^ws:\/\/localhost:\d+$/);
    const c = await connect(url, 'tok');
    await c.close();
    await run.stop();
  });
});
