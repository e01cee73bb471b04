import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { ArcpClient } from '../../src/client/client.js';
import { connectWebSocket } from '../../src/engine/transport/websocket.js';
import { record } from '../../src/record/recorder.js';
import { FLAG } from '../../src/tape/format.js';
import { defaultRules } from '../../src/tape/redact.js';
import { verifyTape } from '../../src/tape/verify.js';
import { startRuntime } from '../helpers/runtime.js';
import { payloads, readFrames, tapeDir } from '../helpers/tape.js';

const tape = tapeDir();
let runtime: Awaited<ReturnType<typeof startRuntime>>;
beforeAll(async () => {
  runtime = await startRuntime();
});
afterAll(() => runtime.close());

/** A client whose transport remembers the exact bytes it sent and received. */
async function tappedClient(url: string, token = 'tok') {
  const sent: Buffer[] = [];
  const got: Buffer[] = [];
  const client = await ArcpClient.connect(
    async () => {
      const t = await connectWebSocket(url);
      t.onFrame((f) => got.push(f.data));
      const send = t.send.bind(t);
      t.send = (d, o) => (sent.push(Buffer.from(d)), send(d, o));
      return t;
    },
    { token, requestTimeoutMs: 5000 },
  );
  return { client, sent, got };
}

describe('arcp record: WebSocket proxy in front of the reference runtime', () => {
  it('records a session bit-exact, redacts the token and credentials, and the tape verifies', async () => {
    const path = tape('session.tape');
    const rec = await record({ tape: path, ws: { upstream: runtime.url } });
    const { client, sent, got } = await tappedClient(rec.addresses.ws!);
    const chatty = client.submit({ agent: 'chatty', input: { dataset: 's3://x/y.csv' }, lease_request: { 'tool.call': ['stats.*'] } });
    await chatty.done;
    const llm = client.submit({ agent: 'llm', lease_request: { 'model.use': ['gpt-*'] } });
    await llm.done;
    const secret = llm.accepted!.credentials![0].value;
    await client.close();
    const summary = await rec.stop();

    const frames = readFrames(path);
    const c2s = payloads(frames, ['ws.text'], 'c2s');
    const s2c = payloads(frames, ['ws.text'], 's2c');
    expect(s2c.length).toBe(got.length);
    expect(c2s.length).toBe(sent.length);
    // Every frame is the exact bytes that crossed, except where a secret was replaced.
    for (let i = 0; i < got.length; i++) {
      if (got[i].includes(secret)) expect(s2c[i].toString()).toBe(got[i].toString().replace(secret, '[arcp-redacted:2]'));
      else expect(s2c[i].equals(got[i])).toBe(true);
    }
    expect(c2s[0].toString()).toBe(sent[0].toString().replace('"token":"tok"', '"token":"[arcp-redacted:1]"'));
    for (let i = 1; i < sent.length; i++) expect(c2s[i].equals(sent[i])).toBe(true);
    const all = Buffer.concat(frames.map((f) => f.data)).toString();
    expect(all).not.toContain(secret);
    expect(all).not.toContain('"token":"tok"');
    expect(frames.filter((f) => f.flags & FLAG.redacted)).toHaveLength(2);
    expect(verifyTape(path)).toMatchObject({ ok: true, fingerprint: summary.fingerprint, frames: summary.frames });
  });

  it('--no-redact keeps secrets and stores the rules it applied', async () => {
    const path = tape('clear.tape');
    const rec = await record({ tape: path, ws: { upstream: runtime.url }, redaction: defaultRules({}, false) });
    const { client } = await tappedClient(rec.addresses.ws!);
    await client.close();
    await rec.stop();
    expect(payloads(readFrames(path), ['ws.text'], 'c2s')[0].toString()).toContain('"token":"tok"');
  });

  it('forwards headers, subprotocols and close codes; flags binary and invalid UTF-8; keeps many clients apart', async () => {
    const seen: { headers: Record<string, unknown>; protocol: string }[] = [];
    const up = new WebSocketServer({ host: '127.0.0.1', port: 0, skipUTF8Validation: true, handleProtocols: (p) => [...p][0] });
    await new Promise((r) => up.once('listening', r));
    up.on('connection', (s, req) => {
      seen.push({ headers: req.headers, protocol: s.protocol });
      s.on('message', (d, bin) => (String(d) === 'close please' ? s.close(4001, 'asked to') : s.send(d as Buffer, { binary: bin })));
    });
    const path = tape('raw.tape');
    const rec = await record({ tape: path, ws: { upstream: `ws://127.0.0.1:${(up.address() as AddressInfo).port}` } });
    const open = async (n: number) => {
      const ws = new WebSocket(rec.addresses.ws! + '/arcp?c=' + n, ['arcp.v1', 'other'], { skipUTF8Validation: true, headers: { 'x-trace': `t${n}`, authorization: 'Bearer sekrit-123' } });
      await new Promise((r) => ws.once('open', r));
      return ws;
    };
    const clients = await Promise.all([1, 2, 3].map(open));
    expect(clients.map((c) => c.protocol)).toEqual(['arcp.v1', 'arcp.v1', 'arcp.v1']);
    expect(seen.map((s) => s.headers['x-trace']).sort()).toEqual(['t1', 't2', 't3']);
    expect(seen[0].headers.authorization).toBe('Bearer sekrit-123');
    const echo = (ws: WebSocket, d: Buffer | string, binary: boolean) =>
      new Promise<Buffer>((r) => (ws.once('message', (m) => r(m as Buffer)), ws.send(d, { binary })));
    const bad = Buffer.from([0x7b, 0xc3, 0x28, 0x7d]);
    expect((await echo(clients[0], bad, false)).equals(bad)).toBe(true);
    const bin = Buffer.from([0, 1, 2, 255]);
    expect((await echo(clients[1], bin, true)).equals(bin)).toBe(true);
    const big = Buffer.alloc(16 * 1024 * 1024, 0x61);
    expect((await echo(clients[2], big, false)).length).toBe(big.length);
    const closed = new Promise<number>((r) => clients[0].once('close', (code) => r(code)));
    clients[0].send('close please');
    expect(await closed).toBe(4001);
    clients[1].close(4100, 'client says bye');
    await new Promise((r) => clients[1].once('close', r));
    clients[2].close();
    await new Promise((r) => clients[2].once('close', r));
    await rec.stop();
    up.close();
    const frames = readFrames(path);
    expect(new Set(frames.map((f) => f.channel)).size).toBe(3);
    const flagged = (flag: number) => frames.filter((f) => f.flags & flag).map((f) => `${f.dir} ${f.kind}`);
    expect(flagged(FLAG.invalidUtf8)).toEqual(['c2s ws.text', 's2c ws.text']);
    expect(flagged(FLAG.binary)).toEqual(['c2s ws.binary', 's2c ws.binary']);
    expect(flagged(FLAG.large)).toEqual(['c2s ws.text', 's2c ws.text']);
    const closes = frames.filter((f) => f.kind === 'ws.close').map((f) => `${f.dir} ${f.data}`);
    expect(closes).toContain('s2c {"code":4001,"reason":"asked to"}');
    expect(closes).toContain('c2s {"code":4100,"reason":"client says bye"}');
    expect(JSON.stringify(frames.map((f) => f.data.toString()))).not.toContain('sekrit-123');
    expect(verifyTape(path).ok).toBe(true);
  });

  it('a dead upstream gets the client a 502 and is recorded', async () => {
    const path = tape('dead.tape');
    const warnings: string[] = [];
    const rec = await record({ tape: path, ws: { upstream: 'ws://127.0.0.1:1' }, onWarning: (l) => warnings.push(l) });
    const ws = new WebSocket(rec.addresses.ws!);
    const status = await new Promise<number>((r) => ws.once('unexpected-response', (_q, res) => r(res.statusCode!)));
    expect(status).toBe(502);
    expect(warnings).toEqual([expect.stringMatching(/^upstream ws:\/\/127\.0\.0\.1:1\/ unreachable: connect ECONNREFUSED/)]);
    await rec.stop();
    const [f] = readFrames(path).filter((x) => x.kind === 'transport.error');
    expect(JSON.parse(f.data.toString())).toMatchObject({ status: 502, error: expect.stringMatching(/ws:\/\/127\.0\.0\.1:1\/ unreachable/) });
  });

  it('a flood of 200k frames loses nothing: counts equal at both ends and in the tape', async () => {
    const N = 200_000;
    const up = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => up.once('listening', r));
    up.on('connection', (s) => {
      for (let i = 0; i < N; i++) s.send(`{"arcp":"1.1","type":"job.event","event_seq":${i},"payload":{"kind":"log","body":{"message":"flood"}}}`);
    });
    const path = tape('flood.tape');
    const rec = await record({ tape: path, ws: { upstream: `ws://127.0.0.1:${(up.address() as AddressInfo).port}` } });
    const ws = new WebSocket(rec.addresses.ws!);
    let n = 0;
    await new Promise<void>((r) => ws.on('message', () => ++n === N && r()));
    ws.close();
    await new Promise((r) => ws.once('close', r));
    const summary = await rec.stop();
    up.close();
    expect(n).toBe(N);
    const v = verifyTape(path);
    expect(v.ok).toBe(true);
    expect(summary.frames).toBe(N + 3); // + open, the client's close, the close handshake's end
    expect(payloads(readFrames(path), ['ws.text'], 's2c')).toHaveLength(N);
  }, 60_000);
});
