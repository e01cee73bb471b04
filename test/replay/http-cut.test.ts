import { execa } from 'execa';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { record } from '../../src/record/recorder.js';
import { serveReplay } from '../../src/replay/serve.js';
import { TransportEvent } from '../../src/tape/format.js';
import { startLlmUpstream, type LlmUpstream } from '../helpers/llm-upstream.js';
import { until } from '../helpers/runtime.js';
import { readFrames, tapeDir } from '../helpers/tape.js';

const tape = tapeDir();
let up: LlmUpstream;
beforeAll(async () => (up = await startLlmUpstream()));
afterAll(() => up.close());

const curl = (url: string, extra: string[] = []) =>
  execa('curl', ['-sS', '-N', '-X', 'POST', '-H', 'content-type: application/json', '--data', '{"model":"m","stream":true}', ...extra, url], { reject: false });
const ends = (path: string) => readFrames(path).filter((f) => f.kind.startsWith('transport.')).map((f) => ({ kind: f.kind, ...TransportEvent.parse(JSON.parse(f.data.toString())) }));
const statuses = (path: string) => readFrames(path).filter((f) => f.kind === 'http.response').map((f) => JSON.parse(f.data.toString()).status as number);

describe('HTTP: replay ends a response the way the recorded client saw it end (issue 11 §5)', () => {
  it('an upstream reset mid-SSE: curl exits 18 through the recorder, and again through the replay, with the same bytes', async () => {
    const path = tape('reset.tape');
    const rec = await record({ tape: path, http: { routes: [{ prefix: '/', upstream: up.url }] } });
    up.next.push('reset-mid-sse');
    const live = await curl(`${rec.addresses.http}/v1/chat/completions`);
    await rec.stop();
    expect(live.exitCode).toBe(18); // "transfer closed with outstanding read data remaining"
    expect(live.stdout).toContain('"content":"lo"');
    expect(live.stdout).not.toContain('[DONE]');
    expect(ends(path)).toEqual([expect.objectContaining({ kind: 'transport.error', client: 'reset' })]);

    const r = await serveReplay({ tape: path, http: {} });
    const again = await curl(`${r.addresses.http}/v1/chat/completions`);
    expect(again.exitCode).toBe(18);
    expect(again.stdout).toBe(live.stdout);
    const report = await r.done;
    expect(report.ok).toBe(true);
    expect(report.notes.join('\n')).toMatch(/connection was cut after \d+ chunk\(s\); cut the same way/);
  });

  it('a client that gave up waiting: the tape holds no 502 it never got, and replay sends it nothing either', async () => {
    const path = tape('gone.tape');
    const rec = await record({ tape: path, http: { routes: [{ prefix: '/', upstream: up.url }] } });
    up.next.push('hang');
    const live = await curl(`${rec.addresses.http}/v1/chat/completions`, ['--max-time', '0.5']);
    expect(live.exitCode).toBe(28); // curl: operation timed out
    await until(() => rec.stats().active === 0, 5000, 'the exchange to end');
    await rec.stop();
    expect(statuses(path)).toEqual([]);
    expect(ends(path)).toEqual([expect.objectContaining({ kind: 'transport.error', client: 'gone', error: 'client went away' })]);

    const r = await serveReplay({ tape: path, http: {} });
    const t0 = performance.now();
    const again = await curl(`${r.addresses.http}/v1/chat/completions`, ['--max-time', '0.5']);
    expect(again.exitCode).toBe(28); // timed out again: not a 502 served at once
    expect(performance.now() - t0).toBeGreaterThan(450);
    expect(again.stdout).toBe('');
    const report = await r.done;
    expect(report.ok).toBe(true);
  });

  it("a request cut off by the recorder's stop: the client got a reset, the tape says so, and replay resets it too", async () => {
    const path = tape('stop.tape');
    const rec = await record({ tape: path, http: { routes: [{ prefix: '/', upstream: up.url }] } });
    up.next.push('hang');
    const pending = request(`${rec.addresses.http}/v1/chat/completions`, { method: 'POST', body: '{"model":"m"}', headersTimeout: 0 }).then(
      () => 'answered',
      (e: Error & { code?: string }) => e.code ?? e.message,
    );
    await until(() => up.requests.length > 0 && up.requests.at(-1)!.body === '{"model":"m"}', 5000, 'the request to reach the upstream');
    await rec.stop();
    expect(await pending).toMatch(/UND_ERR_SOCKET|ECONNRESET/);
    expect(statuses(path)).toEqual([]);
    expect(ends(path)).toEqual([expect.objectContaining({ kind: 'transport.error', client: 'reset', error: 'recorder stopping' })]);

    const r = await serveReplay({ tape: path, http: {} });
    const t0 = performance.now();
    const again = await request(`${r.addresses.http}/v1/chat/completions`, { method: 'POST', body: '{"model":"m"}' }).then(
      (res) => `answered ${res.statusCode}`,
      (e: Error & { code?: string }) => e.code ?? e.message,
    );
    expect(again).toMatch(/UND_ERR_SOCKET|ECONNRESET/);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect((await r.done).ok).toBe(true);
  });
});
