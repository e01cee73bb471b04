import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode } from '../../src/engine/codec.js';
import type { WebSocketTransport } from '../../src/engine/transport/websocket.js';
import { connect, startRuntime, until } from '../helpers/runtime.js';

let env: Awaited<ReturnType<typeof startRuntime>>;
beforeAll(async () => {
  env = await startRuntime({ heartbeatIntervalSec: 1 });
});
afterAll(() => env.close());

describe('the reference client keeps its session (§6.3, §6.4, §8.3)', () => {
  it('autoResume: after a dropped transport it resumes with its last seq and the latest token, and the job ends with its result', async () => {
    const c = await connect(env.url, 'tok', { autoResume: true });
    const first = c.resumeToken;
    const h = c.submit({ agent: 'ticker', input: { ticks: 6, tickMs: 60 } });
    await until(() => h.events.length >= 2, 3000, 'two events');
    const sent: string[] = [];
    c.on('resumed', () => sent.push(c.resumeToken!));
    (c.current as WebSocketTransport).terminate();
    expect((await h.done).result).toEqual({ ticks: 6 });
    expect(sent).toHaveLength(1);
    expect(c.resumeToken).not.toBe(first);
    // Every event exactly once, in order, across the reconnect.
    const logs = h.events.filter((e) => e.kind === 'log').map((e) => (e.body as { message: string }).message);
    expect(logs).toEqual([1, 2, 3, 4, 5, 6].map((i) => `tick ${i}/6`));
    await c.close();
  });

  it('a clean close by the runtime is not resumed', async () => {
    const c = await connect(env.url, 'tok', { autoResume: true });
    const gone = new Promise((r) => c.once('close', r));
    env.rt.sessions.get(c.sessionId!)!.transport!.close(1000, 'bye');
    await gone;
    await new Promise((r) => setTimeout(r, 200));
    expect(c.current.closed).toBe(true);
    expect(c.machine.state).toBe('open');
  });

  it('idlePing: an idle client pings within the heartbeat interval, so the runtime keeps the session', async () => {
    const c = await connect(env.url, 'tok', { idlePing: true });
    const pings: number[] = [];
    const t0 = Date.now();
    const orig = c.current.send.bind(c.current);
    (c.current as { send: typeof orig }).send = (data, o) => {
      const d = decode(Buffer.from(String(data)));
      if (d.ok && d.message.type === 'session.ping') pings.push(Date.now() - t0);
      orig(data, o);
    };
    await until(() => pings.length >= 3, 4000, 'three idle pings');
    expect(pings[0]).toBeLessThanOrEqual(1000);
    expect(c.current.closed).toBe(false);
    await c.close();
  });
});
