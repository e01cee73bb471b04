import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode } from '../../src/engine/codec.js';
import { connectWebSocket } from '../../src/engine/transport/websocket.js';
import type { Transport } from '../../src/engine/transport/transport.js';
import { connect, startRuntime, until } from '../helpers/runtime.js';

let env: Awaited<ReturnType<typeof startRuntime>>;
beforeAll(async () => {
  env = await startRuntime({ heartbeatIntervalSec: 1, maxFrameBytes: 64 * 1024 });
});
afterAll(() => env.close());

/** A raw socket and the decoded frames it receives. */
async function raw(): Promise<{ t: Transport; got: ReturnType<typeof decode>[]; next: (type: string) => Promise<Record<string, any>> }> {
  const t = await connectWebSocket(env.url);
  const got: ReturnType<typeof decode>[] = [];
  t.onFrame((f) => got.push(decode(f)));
  const next = async (type: string) => {
    await until(() => got.some((d) => d.ok && d.message.type === type), 3000, type);
    const i = got.findIndex((d) => d.ok && d.message.type === type);
    const d = got.splice(i, 1)[0];
    return (d as { message: Record<string, any> }).message;
  };
  return { t, got, next };
}
const hello = (token = 'tok', features?: string[]) =>
  JSON.stringify({
    arcp: '1.1',
    id: `m_${Math.random()}`,
    type: 'session.hello',
    payload: { client: { name: 't', version: '1' }, auth: { scheme: 'bearer', token }, capabilities: features ? { encodings: ['json'], features } : { encodings: ['json'] } },
  });

describe('sessions (§6) over WebSocket', () => {
  it('negotiates the feature intersection and advertises agents with versions', async () => {
    const c = await connect(env.url, 'tok', { features: ['progress', 'heartbeat', 'made-up'] });
    expect(c.welcome!.capabilities!.features).toEqual(['heartbeat', 'progress']);
    expect(c.welcome!.heartbeat_interval_sec).toBe(1);
    expect(c.sessionId).toMatch(/^sess_/);
    expect(c.resumeToken).toMatch(/^rt_/);
    const agents = c.welcome!.capabilities!.agents as { name: string; versions: string[]; default?: string }[];
    expect(agents.find((a) => a.name === 'refactor')).toEqual({ name: 'refactor', versions: ['1.0.0', '2.0.0'], default: '2.0.0' });
    expect(agents.map((a) => a.name)).toEqual(expect.arrayContaining(['echo', 'chatty', 'progress', 'report', 'budget', 'lease-watch', 'parent', 'child', 'slow', 'ticker', 'flood', 'fail', 'refactor', 'llm']));
    await c.close();
  });

  it('a hello without features gets a welcome without features or heartbeat interval', async () => {
    const c = await connect(env.url, 'tok', { features: null });
    expect(c.welcome!.capabilities!.features).toBeUndefined();
    expect(c.welcome!.heartbeat_interval_sec).toBeUndefined();
    await c.close();
  });

  it('refuses a bad token with UNAUTHENTICATED and closes', async () => {
    const s = await raw();
    const closed = new Promise((r) => s.t.onClose(r));
    s.t.send(hello('wrong'));
    const err = await s.next('session.error');
    expect(err.payload.code).toBe('UNAUTHENTICATED');
    expect(err.session_id).toBeUndefined();
    await closed;
  });

  it('answers bad input with INVALID_REQUEST and keeps serving', async () => {
    const s = await raw();
    s.t.send('{"type":"job.submit"}');
    expect((await s.next('session.error')).payload.message).toMatch(/invalid envelope/);
    s.t.send(JSON.stringify({ arcp: '1.1', id: 'a', type: 'job.submit', payload: { agent: 'echo' } }));
    expect((await s.next('session.error')).payload.message).toMatch(/expected session.hello/);
    s.t.send(hello());
    const w = await s.next('session.welcome');
    const sid = w.session_id;
    const frames: [string | Buffer, boolean, RegExp][] = [
      ['not json at all', false, /not JSON/],
      [Buffer.from([1, 2, 3]), true, /binary frame/],
      [JSON.stringify({ arcp: '1.1', id: 7, type: 'job.submit', payload: {} }), false, /invalid envelope/],
      [JSON.stringify({ arcp: '1.1', id: 'u1', type: 'session.frobnicate', session_id: sid, payload: {} }), false, /unknown message type/],
      [JSON.stringify({ arcp: '1.1', id: 'u2', type: 'job.submit', session_id: sid, payload: { input: {} } }), false, /invalid job.submit payload/],
      [JSON.stringify({ arcp: '1.1', id: 'u3', type: 'job.submit', session_id: sid, payload: { agent: 'echo', pad: 'x'.repeat(70 * 1024) } }), false, /exceeds/],
      [JSON.stringify({ arcp: '2.0', id: 'u4', type: 'session.ping', session_id: sid, payload: { nonce: 'n' } }), false, /unsupported protocol version/],
      [JSON.stringify({ arcp: '1.1', id: 'u5', type: 'x-vendor.acme.must', session_id: sid, payload: {} }), false, /unsupported vendor/],
    ];
    for (const [data, binary, re] of frames) {
      s.t.send(data, { binary });
      const e = await s.next('session.error');
      expect(e.payload.code).toBe('INVALID_REQUEST');
      expect(e.payload.message).toMatch(re);
      expect(e.session_id).toBe(sid);
    }
    // An optional vendor message is dropped silently; the session still works.
    s.t.send(JSON.stringify({ arcp: '1.1', id: 'v1', type: 'x-vendor.acme.hint', session_id: sid, extensions: { optional: true }, payload: {} }));
    s.t.send(JSON.stringify({ arcp: '1.1', id: 'p1', type: 'session.ping', session_id: sid, payload: { nonce: 'n1' } }));
    expect((await s.next('session.pong')).payload.ping_nonce).toBe('n1');
    expect(s.got.filter((d) => d.ok && d.message.type === 'session.error')).toHaveLength(0);
    // Another session is unaffected.
    const other = await connect(env.url);
    expect((await other.submit({ agent: 'echo', input: 1 }).done).result).toEqual({ echoed: 1 });
    await other.close();
    s.t.close();
  });

  it('heartbeats: pings an idle client, answers pings, declares HEARTBEAT_LOST on silence', async () => {
    const c = await connect(env.url, 'tok', { features: ['heartbeat'] });
    let pinged = 0;
    c.on('ping', () => pinged++);
    await until(() => pinged > 0, 3000, 'runtime ping');
    const pong = await c.ping();
    expect(pong.ping_nonce).toMatch(/^ping_/);
    await c.close();

    const silent = await connect(env.url, 'tok', { features: ['heartbeat'], autoPong: false });
    const errors: string[] = [];
    silent.on('session-error', (e) => errors.push(e.code));
    const closed = new Promise((r) => silent.on('close', r));
    await closed;
    expect(errors).toContain('HEARTBEAT_LOST');
  });

  it('closes with session.close → session.closed (draft) and with session.bye (wire)', async () => {
    const c = await connect(env.url);
    const frames: string[] = [];
    c.on('frame', (d) => d.ok && frames.push(d.message.type));
    await c.close();
    expect(frames).toContain('session.closed');
    const w = await connect(env.url, 'tok', { form: 'wire' });
    const wf: string[] = [];
    w.on('frame', (d) => d.ok && wf.push(d.message.type));
    await w.close();
    expect(wf).not.toContain('session.closed');
    await until(() => w.current.closed, 2000, 'the wire-form close to end the transport');
  });

  it('processes a repeated envelope id once (transport-level dedupe)', async () => {
    const c = await connect(env.url);
    const id = 'msg_dup_1';
    c.send('job.submit', { agent: 'echo', input: { dup: true } }, { id });
    c.send('job.submit', { agent: 'echo', input: { dup: true } }, { id });
    const accepted: string[] = [];
    c.on('frame', (d) => d.ok && d.message.type === 'job.accepted' && accepted.push(d.message.type));
    // The runtime answers in order: once a later submit is accepted, a second answer to the repeat would be in.
    await c.submit({ agent: 'echo', input: { marker: true } }).acceptedP;
    expect(accepted).toHaveLength(2);
    await c.close();
  });
});
