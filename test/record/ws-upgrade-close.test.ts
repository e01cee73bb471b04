import { createServer, get, type IncomingMessage } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { ToolError } from '../../src/errors.js';
import { record, type Recording } from '../../src/record/recorder.js';
import { until } from '../helpers/runtime.js';
import { readFrames, tapeDir } from '../helpers/tape.js';

// What the WebSocket recorder does at the edges of a connection: upgrades it refuses (and with
// which status), closes passed on by kind (a code, none, a dropped connection), and its own stop.

const tape = tapeDir();

async function recorder(path: string, upstream: string, upstreamTimeoutMs?: number): Promise<{ rec: Recording; warnings: string[] }> {
  const warnings: string[] = [];
  const rec = await record({ tape: path, ws: { upstream, upstreamTimeoutMs }, onWarning: (l) => warnings.push(l) });
  onTestFinished(() => rec.stop().then(() => undefined, () => undefined));
  return { rec, warnings };
}

/** The upgrade's answer when it is not a 101: status, status text, body. */
function refusedUpgrade(url: string): Promise<{ status: number; text: string; body: string }> {
  const ws = new WebSocket(url);
  ws.on('error', () => undefined); // the refusal itself, after unexpected-response
  onTestFinished(() => ws.terminate());
  return new Promise((resolve, reject) => {
    ws.once('open', () => reject(new Error('the upgrade was accepted')));
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.once('end', () => resolve({ status: res.statusCode!, text: res.statusMessage!, body }));
    });
  });
}

async function wsUpstream(): Promise<{ url: string; server: WebSocketServer; seen: { path: string }[]; got: string[]; closes: { code: number; reason: string }[] }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => server.once('listening', r));
  onTestFinished(() => {
    for (const c of server.clients) c.terminate();
    server.close();
  });
  const seen: { path: string }[] = [];
  const closes: { code: number; reason: string }[] = [];
  const got: string[] = [];
  server.on('connection', (s, req) => {
    seen.push({ path: req.url! });
    s.on('message', (d) => got.push(d.toString()));
    s.on('close', (code, reason) => closes.push({ code, reason: reason.toString() }));
  });
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, server, seen, got, closes };
}

const frameKinds = (path: string) => readFrames(path).map((f) => `${f.dir} ${f.kind}${f.kind === 'ws.close' || f.kind === 'transport.error' ? ' ' + f.data.toString() : ''}`);

describe('WebSocket recorder: upgrades it refuses', () => {
  it('an upstream URL that is not ws:// or wss:// is a usage error', async () => {
    for (const upstream of ['http://127.0.0.1:1', 'not a url']) {
      const e = await record({ tape: tape(`bad-${upstream.length}.tape`), ws: { upstream } }).then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(ToolError);
      expect((e as ToolError).message).toBe(`--upstream "${upstream}" is not a ws:// or wss:// URL`);
      expect((e as ToolError).hint).toBe('e.g. --upstream ws://127.0.0.1:7777');
    }
  });

  it('a plain HTTP request to the port gets 426 and says what the port is for', async () => {
    const { rec } = await recorder(tape('plain.tape'), 'ws://127.0.0.1:1');
    const res = await new Promise<IncomingMessage>((r) => get(rec.addresses.ws!.replace('ws:', 'http:'), r));
    let body = '';
    for await (const d of res) body += d;
    expect(res.statusCode).toBe(426);
    expect(res.headers['content-type']).toBe('text/plain');
    expect(body).toBe('arcp record: this port proxies WebSocket connections\n');
  });

  it('an upstream that answers the upgrade with an HTTP status: the client gets that status, the tape and a warning say so', async () => {
    const up = createServer((_req, res) => res.writeHead(403).end('no'));
    up.on('upgrade', (_req, socket: Socket) => socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n'));
    await new Promise<void>((r) => up.listen(0, '127.0.0.1', r));
    onTestFinished(() => void up.close());
    const upstream = `ws://127.0.0.1:${(up.address() as AddressInfo).port}/`;
    const path = tape('403.tape');
    const { rec, warnings } = await recorder(path, upstream);
    const got = await refusedUpgrade(`${rec.addresses.ws!}/x`);
    const said = `upstream ${upstream}x answered HTTP 403 to the WebSocket upgrade`;
    expect(got).toEqual({ status: 403, text: 'Upstream Refused', body: `arcp record: ${said}\n` });
    expect(warnings).toEqual([said]);
    await rec.stop();
    expect(frameKinds(path)).toContain(`meta transport.error ${JSON.stringify({ error: said, status: 403 })}`);
  });

  it('a dead upstream is a 502 Bad Gateway', async () => {
    const { rec } = await recorder(tape('dead.tape'), 'ws://127.0.0.1:1');
    const got = await refusedUpgrade(rec.addresses.ws!);
    expect(got.status).toBe(502);
    expect(got.text).toBe('Bad Gateway');
    expect(got.body).toMatch(/^arcp record: upstream ws:\/\/127\.0\.0\.1:1\/ unreachable: connect ECONNREFUSED/);
  });

  it('an upstream that never answers the upgrade: 504 Gateway Timeout after upstreamTimeoutMs, and its connection is dropped', async () => {
    const { sockets, silent } = await silentUpstream();
    const upstream = `ws://127.0.0.1:${(silent.address() as AddressInfo).port}/`;
    const { rec, warnings } = await recorder(tape('silent.tape'), upstream, 300);
    const t0 = performance.now();
    const got = await refusedUpgrade(rec.addresses.ws!);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect(got.status).toBe(504);
    expect(got.text).toBe('Gateway Timeout');
    expect(warnings).toEqual([`upstream ${upstream} did not answer the WebSocket upgrade within 0.3 s`]);
    await until(() => sockets.length === 1 && sockets[0].destroyed, 5000, 'the upstream connection to be dropped');
  });

  it('a stop answers an upgrade still waiting on the upstream with 503 at once', async () => {
    const { sockets, silent } = await silentUpstream();
    const path = tape('stopping.tape');
    const { rec } = await recorder(path, `ws://127.0.0.1:${(silent.address() as AddressInfo).port}`, 10_000);
    const got = refusedUpgrade(rec.addresses.ws!);
    await until(() => sockets.length === 1, 5000, 'the upgrade to reach the upstream');
    const t0 = performance.now();
    await rec.stop();
    expect(await got).toEqual({ status: 503, text: 'Service Unavailable', body: 'arcp record: the recorder is stopping\n' });
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(frameKinds(path)).toContain(`meta transport.error ${JSON.stringify({ error: 'the recorder is stopping', status: 503 })}`);
  });
});

describe('WebSocket recorder: closes', () => {
  it('the path goes to an upstream given as a bare origin; an upstream with a path gets that path', async () => {
    const bare = await wsUpstream();
    const { rec } = await recorder(tape('path-bare.tape'), bare.url);
    const a = new WebSocket(`${rec.addresses.ws!}/v1/session?x=1`);
    onTestFinished(() => a.terminate());
    await new Promise((r) => a.once('open', r));
    const pinned = await wsUpstream();
    const { rec: rec2 } = await recorder(tape('path-pinned.tape'), `${pinned.url}/fixed`);
    const b = new WebSocket(`${rec2.addresses.ws!}/other`);
    onTestFinished(() => b.terminate());
    await new Promise((r) => b.once('open', r));
    expect(bare.seen).toEqual([{ path: '/v1/session?x=1' }]);
    expect(pinned.seen).toEqual([{ path: '/fixed' }]);
  });

  it('a close without a code reaches the upstream without one (1005); the tape has it once, then the end', async () => {
    const up = await wsUpstream();
    const path = tape('no-code.tape');
    const { rec } = await recorder(path, up.url);
    const ws = new WebSocket(rec.addresses.ws!);
    const closed = new Promise((r) => ws.once('close', r));
    await new Promise((r) => ws.once('open', r));
    ws.close();
    await until(() => up.closes.length === 1, 5000, 'the upstream to see the close');
    expect(up.closes).toEqual([{ code: 1005, reason: '' }]);
    await closed;
    await rec.stop();
    const kinds = frameKinds(path);
    expect(kinds.filter((k) => k.includes('ws.close'))).toEqual(['c2s ws.close {"code":1005,"reason":""}']);
    expect(kinds.at(-1)).toBe('meta transport.close');
  });

  it('a client whose connection drops (1006): the upstream connection is dropped too', async () => {
    const up = await wsUpstream();
    const path = tape('dropped.tape');
    const { rec } = await recorder(path, up.url);
    const ws = new WebSocket(rec.addresses.ws!);
    await new Promise((r) => ws.once('open', r));
    await until(() => up.server.clients.size === 1, 5000, 'the upstream connection');
    ws.terminate();
    await until(() => up.closes.length === 1, 5000, 'the upstream to see the drop');
    expect(up.closes).toEqual([{ code: 1006, reason: '' }]);
    await rec.stop();
    expect(frameKinds(path).filter((k) => k.includes('ws.close'))).toEqual(['c2s ws.close {"code":1006,"reason":""}']);
  });

  it('a stop closes both sides as the recorder (1001), records that once as its own, and nothing crosses after it', async () => {
    const up = await wsUpstream();
    const path = tape('stop.tape');
    const { rec } = await recorder(path, up.url);
    const ws = new WebSocket(rec.addresses.ws!);
    const clientClose = new Promise<{ code: number; reason: string }>((r) => ws.once('close', (code, reason) => r({ code, reason: reason.toString() })));
    await new Promise((r) => ws.once('open', r));
    ws.send('before');
    await until(() => up.got.length === 1, 5000, 'the first message to cross');
    await rec.stop();
    expect(await clientClose).toEqual({ code: 1001, reason: 'recorder stopping' });
    await until(() => up.closes.length === 1, 5000, 'the upstream to see the close');
    expect(up.closes).toEqual([{ code: 1001, reason: 'recorder stopping' }]);
    const kinds = frameKinds(path);
    expect(kinds.filter((k) => k.includes('ws.close'))).toEqual(['meta ws.close {"code":1001,"reason":"recorder stopping","by":"recorder"}']);
    expect(kinds.at(-1)).toBe('meta transport.close');
    expect(rec.stats().connections).toBe(0);
  });
});

/** A TCP server that accepts and never answers (an upstream that hangs on the upgrade); its sockets are kept to see them dropped. */
async function silentUpstream(): Promise<{ sockets: Socket[]; silent: ReturnType<typeof createTcpServer> }> {
  const sockets: Socket[] = [];
  const silent = createTcpServer((s) => sockets.push(s.on('error', () => undefined).resume()));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  onTestFinished(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  return { sockets, silent };
}
