import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { RuntimeJob } from '../../src/runtime/job.js';
import { connect, startRuntime, until } from '../helpers/runtime.js';

const HELLO = '{"arcp":"1.1","id":"m1","type":"session.hello","payload":{"client":{"name":"flooder","version":"1"},"auth":{"scheme":"bearer","token":"tok"},"capabilities":{"encodings":["json"],"features":["ack"]}}}';
const FLOOD = (count: number) => `{"arcp":"1.1","id":"m2","type":"job.submit","payload":{"agent":"flood","input":{"count":${count}}}}`;

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

/** A client that submits a long flood on a raw socket, and the runtime's job for it. */
async function flooding(url: string, jobs: Map<string, RuntimeJob>, count: number) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise((r) => ws.once('open', r));
  let received = 0;
  ws.on('message', () => received++);
  ws.send(HELLO);
  ws.send(FLOOD(count));
  await until(() => received > 1000, 10_000, 'the flood to start');
  const job = [...jobs.values()].find((j) => j.init.agent === 'flood')!;
  return { ws, job, received: () => received };
}

/** Opens a session, runs echo to its result: how long it took. */
async function echoTakes(url: string): Promise<number> {
  const t0 = performance.now();
  const c = await connect(url);
  const h = c.submit({ agent: 'echo', input: { hi: 1 } });
  expect((await h.done).result).toEqual({ echoed: { hi: 1 } });
  await c.close();
  return performance.now() - t0;
}

describe('the runtime under a flood', () => {
  it('serves a new session promptly while a 2M-event flood streams to a live client', async () => {
    const rt = await startRuntime();
    stop = rt.close;
    const f = await flooding(rt.url, rt.rt.jobs, 2_000_000);
    expect(await echoTakes(rt.url)).toBeLessThan(2000);
    expect(f.job.status).toBe('running'); // the flood is still going: the echo did not wait for its end
    f.ws.terminate();
  });

  it('a flood whose client is gone runs on only as far as its resume buffer, then waits; others are served; a resume gets every event', async () => {
    const rt = await startRuntime({ maxBuffered: 5000 });
    stop = rt.close;
    const f = await flooding(rt.url, rt.rt.jobs, 2_000_000);
    f.ws.terminate();
    await until(() => !f.job.owner.transport, 5000, 'the runtime to see the client go');
    const atDrop = f.job.lastEventSeq;
    await until(() => f.job.owner.congested(), 5000, 'the resume buffer to fill');
    const full = f.job.lastEventSeq;
    await new Promise((r) => setTimeout(r, 300));
    expect(f.job.lastEventSeq).toBe(full); // waiting, not emitting into a buffer nobody reads
    expect(full - atDrop).toBeLessThanOrEqual(5000);
    expect(await echoTakes(rt.url)).toBeLessThan(2000);
    // The client comes back: every event after what it had is replayed, and the flood goes on.
    const back = new WebSocket(rt.url, { perMessageDeflate: false });
    await new Promise((r) => back.once('open', r));
    const seqs: number[] = [];
    back.on('message', (d) => {
      const m = JSON.parse(String(d)) as { event_seq?: number };
      if (m.event_seq !== undefined) seqs.push(m.event_seq);
    });
    const s = f.job.owner;
    const from = full - 4000;
    back.send(JSON.stringify({ arcp: '1.1', id: 'r1', type: 'session.resume', payload: { session_id: s.id, resume_token: s.resumeToken, last_event_seq: from, auth: { scheme: 'bearer', token: 'tok' } } }));
    await until(() => seqs.length > 4000 + 2000, 10_000, 'the replay and the flood going on');
    expect(seqs.slice(0, 6000)).toEqual(Array.from({ length: 6000 }, (_v, i) => from + 1 + i));
    back.terminate();
  });
});
