import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode } from '../../src/engine/codec.js';
import { stdioTarget, wsTarget, type ServerTarget } from '../../src/conform/server/target.js';
import { BIN } from '../helpers/cli.js';
import { startRuntime } from '../helpers/runtime.js';

let rt: Awaited<ReturnType<typeof startRuntime>>;
beforeAll(async () => {
  rt = await startRuntime();
});
afterAll(() => rt.close());

/** Every way the server suite reaches a runtime: each connect() is a fresh ARCP connection. */
const targets: Record<string, () => ServerTarget> = {
  websocket: () => wsTarget(rt.url),
  stdio: () => stdioTarget([process.execPath, BIN, 'serve', '--stdio', '--token', 'tok=alice']),
};

describe.each(Object.entries(targets))('ServerTarget contract: %s', (name, make) => {
  it('connects, carries a hello and its welcome, and closes', async () => {
    const target = make();
    expect(target.describe.length).toBeGreaterThan(0);
    expect(target.local).toBe(true);
    expect(target.info()).toEqual(name === 'stdio' ? { command: expect.any(Array) } : { url: rt.url });
    const t = await target.connect();
    const welcome = new Promise<Record<string, unknown>>((resolve) => t.onFrame((f) => {
      const d = decode(f);
      if (d.ok && d.message.type === 'session.welcome') resolve(d.message as never);
    }));
    t.send(JSON.stringify({ arcp: '1.1', id: 'h1', type: 'session.hello', payload: { auth: { scheme: 'bearer', token: 'tok' }, capabilities: { encodings: ['json'], features: [] } } }));
    expect((await welcome).session_id).toMatch(/^sess_/);
    const closed = new Promise((r) => t.onClose(r));
    t.close();
    await closed;
    expect(t.closed).toBe(true);
  }, 20_000);

  it(`says whether a second connection reaches the same runtime (${name === 'stdio' ? 'no: a process each' : 'yes'})`, () => {
    expect(make().reconnectable).toBe(name !== 'stdio');
  });
});
