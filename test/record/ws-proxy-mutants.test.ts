import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { ToolError } from '../../src/errors.js';
import { record, type Recording } from '../../src/record/recorder.js';
import { startWsProxy } from '../../src/record/ws-proxy.js';
import { TapeReader } from '../../src/tape/reader.js';
import { defaultRules } from '../../src/tape/redact.js';
import { TapeWriter } from '../../src/tape/writer.js';
import { until } from '../helpers/runtime.js';
import { readFrames, tapeDir } from '../helpers/tape.js';

// The WebSocket recorder as its two peers and its tape see it, case by case: what the upstream's
// handshake holds, what a connection leaves on the tape, a peer that breaks the protocol or
// vanishes, a stop while a close is under way. Each case guards code the broader tests pass over.

const tape = tapeDir();
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const acceptKey = (key: string) => createHash('sha1').update(key + GUID).digest('base64');

async function recorder(path: string, upstream: string, upstreamTimeoutMs?: number): Promise<{ rec: Recording; warnings: string[] }> {
  const warnings: string[] = [];
  const rec = await record({ tape: path, ws: { upstream, upstreamTimeoutMs }, onWarning: (l) => warnings.push(l) });
  onTestFinished(() => rec.stop().then(() => undefined, () => undefined));
  return { rec, warnings };
}

async function wsServer(opts: ConstructorParameters<typeof WebSocketServer>[0] = {}): Promise<{ server: WebSocketServer; url: string; port: number }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, ...opts });
  await new Promise((r) => server.once('listening', r));
  onTestFinished(() => {
    for (const c of server.clients) c.terminate();
    server.close();
  });
  const port = (server.address() as AddressInfo).port;
  return { server, url: `ws://127.0.0.1:${port}`, port };
}

async function tcpServer(onSocket: (s: Socket) => void): Promise<{ port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createTcpServer((s) => {
    sockets.push(s.on('error', () => undefined));
    onSocket(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onTestFinished(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, sockets };
}

/** A raw TCP client that sends `head` (an upgrade request) and collects what comes back. */
async function rawClient(url: string, head: string): Promise<{ socket: Socket; got: () => string }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  onTestFinished(() => void socket.destroy());
  socket.on('error', () => undefined);
  let got = '';
  socket.on('data', (d) => (got += d.toString('latin1')));
  await new Promise((r) => socket.once('connect', r));
  socket.write(head);
  return { socket, got: () => got };
}

function open(url: string, protocols: string[] = [], opts: ConstructorParameters<typeof WebSocket>[2] = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols, opts);
  onTestFinished(() => ws.terminate());
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

const closeOf = (ws: WebSocket) => new Promise<{ code: number; reason: string }>((r) => ws.once('close', (code, reason) => r({ code, reason: reason.toString() })));
const frameList = (path: string) => readFrames(path).map((f) => `${f.dir} ${f.kind} ${f.data.toString()}`);

describe('WebSocket recorder: the upstream URL', () => {
  it('takes wss:// as well as ws://, and refuses a scheme that only contains "ws"', async () => {
    const w = await TapeWriter.create({ path: tape('wss.tape'), commandLine: ['test'], redaction: defaultRules() });
    const ch = await startWsProxy(w, { upstream: 'wss://127.0.0.1:1', host: '127.0.0.1', port: 0 });
    expect(ch.address).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    await ch.close();
    const e = await startWsProxy(w, { upstream: 'xws://127.0.0.1:1' }).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(ToolError);
    expect((e as ToolError).message).toBe('--upstream "xws://127.0.0.1:1" is not a ws:// or wss:// URL');
    await w.close();
  });
});

describe('WebSocket recorder: the handshake the upstream gets', () => {
  it('a client writing its handshake headers in lower case: the upstream gets one of each, its own host, no compression offer, and the rest as sent', async () => {
    const seen: IncomingMessage[] = [];
    const up = await wsServer({ perMessageDeflate: true, handleProtocols: (p) => [...p][0] });
    up.server.on('connection', (s, req) => {
      seen.push(req);
      s.send(`extensions=${s.extensions}`);
    });
    const path = tape('lower.tape');
    const { rec } = await recorder(path, up.url);
    const key = 'dGhlIHNhbXBsZSBub25jZQ==';
    const { host } = new URL(rec.addresses.ws!);
    const raw = await rawClient(
      rec.addresses.ws!,
      [
        'GET /raw?q=1 HTTP/1.1',
        `host: ${host}`,
        'connection: Upgrade',
        'upgrade: websocket',
        `sec-websocket-key: ${key}`,
        'sec-websocket-version: 13',
        'sec-websocket-protocol: arcp.v1, other',
        'sec-websocket-extensions: permessage-deflate; client_max_window_bits',
        'x-trace: raw-1',
        '',
        '',
      ].join('\r\n'),
    );
    await until(() => raw.got().includes('extensions='), 5000, "the upstream's first message through the recorder");
    const [answer] = raw.got().split('\r\n\r\n');
    const lines = answer.split('\r\n');
    expect(lines[0]).toBe('HTTP/1.1 101 Switching Protocols');
    const headers = Object.fromEntries(lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    expect(headers['sec-websocket-accept']).toBe(acceptKey(key));
    expect(headers['sec-websocket-protocol']).toBe('arcp.v1');
    // The recorder does not compress towards the client: the bytes it records are the bytes sent.
    expect(headers['sec-websocket-extensions']).toBeUndefined();
    // Nor towards the upstream, which would have agreed to it.
    expect(raw.got()).toContain('extensions=');
    expect(raw.got()).not.toContain('extensions=permessage-deflate');

    expect(seen).toHaveLength(1);
    const req = seen[0];
    const names: string[] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) names.push(req.rawHeaders[i].toLowerCase());
    const count = (n: string) => names.filter((x) => x === n).length;
    for (const n of ['host', 'connection', 'upgrade', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol']) expect(count(n), n).toBe(1);
    expect(count('sec-websocket-extensions')).toBe(0);
    expect(req.headers.host).toBe(`127.0.0.1:${up.port}`);
    expect(req.headers['sec-websocket-protocol']).toBe('arcp.v1,other');
    expect(req.headers['x-trace']).toBe('raw-1');
    expect(req.url).toBe('/raw?q=1');

    raw.socket.destroy();
    await until(() => up.server.clients.size === 0, 5000, 'the upstream connection to end');
    await rec.stop();
    const t = TapeReader.open(path);
    try {
      const [ch] = t.channels();
      expect(ch.label).toBe('ws#1 /raw?q=1');
      expect(ch.info).toMatchObject({ url: '/raw?q=1', upstream: `${up.url}/raw?q=1` });
      expect((ch.info as { headers: [string, string][] }).headers).toContainEqual(['x-trace', 'raw-1']);
    } finally {
      t.close();
    }
  });
});

describe('WebSocket recorder: what one connection leaves on the tape', () => {
  it('the subprotocol on open, each message, the first close, and the end with the closing code', async () => {
    const up = await wsServer({ handleProtocols: (p) => [...p][0] });
    up.server.on('connection', (s) => s.on('message', (d, bin) => s.send(d as Buffer, { binary: bin })));
    const path = tape('one.tape');
    const { rec } = await recorder(path, up.url);
    const ws = await open(rec.addresses.ws!, ['arcp.v1']);
    const echo = (d: string | Buffer, binary: boolean) => new Promise((r) => (ws.once('message', r), ws.send(d, { binary })));
    await echo('hi', false);
    await echo(Buffer.from([1, 2]), true);
    const closed = closeOf(ws);
    ws.close(4100, 'bye');
    expect(await closed).toEqual({ code: 4100, reason: 'bye' });
    const plain = await open(rec.addresses.ws!);
    const plainClosed = closeOf(plain);
    plain.close(1000);
    await plainClosed;
    await rec.stop();
    const frames = readFrames(path);
    const of = (ch: number) => frames.filter((f) => f.channel === ch).map((f) => `${f.dir} ${f.kind} ${f.data.toString('latin1')}`);
    const [first, second] = [...new Set(frames.map((f) => f.channel))];
    expect(of(first)).toEqual([
      'meta transport.open {"protocol":"arcp.v1"}',
      'c2s ws.text hi',
      's2c ws.text hi',
      'c2s ws.binary \x01\x02',
      's2c ws.binary \x01\x02',
      'c2s ws.close {"code":4100,"reason":"bye"}',
      'meta transport.close {"code":4100,"reason":"bye"}',
    ]);
    expect(of(second)).toEqual(['meta transport.open {}', 'c2s ws.close {"code":1000,"reason":""}', 'meta transport.close {"code":1000,"reason":""}']);
  });

  it('counts live connections and every connection seen', async () => {
    const up = await wsServer();
    const w = await TapeWriter.create({ path: tape('counts.tape'), commandLine: ['test'], redaction: defaultRules() });
    const ch = await startWsProxy(w, { upstream: up.url, host: '127.0.0.1', port: 0 });
    const a = await open(ch.address);
    const b = await open(ch.address);
    expect([ch.active, ch.seen]).toEqual([2, 2]);
    const closed = closeOf(a);
    a.close(1000);
    await closed;
    await until(() => ch.active === 1, 5000, 'one connection to be left');
    expect(ch.seen).toBe(2);
    b.terminate();
    await until(() => ch.active === 0, 5000, 'no connection to be left');
    expect(ch.seen).toBe(2);
    await ch.close();
    await w.close();
  });

  it('records only what the other side was sent: messages arriving after the client closed are dropped from the tape too', async () => {
    const up = await wsServer();
    up.server.on('connection', (s) => {
      let n = 0;
      const flood = () => {
        if (s.readyState !== WebSocket.OPEN) return;
        for (let i = 0; i < 50; i++) s.send(`{"n":${n++}}`);
        setImmediate(flood);
      };
      flood();
    });
    const path = tape('after-close.tape');
    const { rec } = await recorder(path, up.url);
    const ws = new WebSocket(rec.addresses.ws!);
    onTestFinished(() => ws.terminate());
    // Counted from the upgrade on: the first messages may come with the 101.
    let got = 0;
    ws.on('message', () => {
      if (++got === 2000) ws.close(1000, 'enough');
    });
    await closeOf(ws);
    await rec.stop();
    const s2c = readFrames(path).filter((f) => f.dir === 's2c' && f.kind === 'ws.text');
    expect(got).toBeGreaterThanOrEqual(2000);
    expect(s2c).toHaveLength(got);
  });
});

describe('WebSocket recorder: a peer that breaks the protocol or vanishes', () => {
  it('an upstream that sends an invalid frame after the upgrade: recorded as that error, not as a refused upgrade; the client is dropped', async () => {
    const { port } = await tcpServer((s) => {
      let head = '';
      const onData = (d: Buffer) => {
        head += d.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        s.off('data', onData);
        const key = /sec-websocket-key: *(\S+)/i.exec(head)![1];
        s.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`);
        setTimeout(() => s.write(Buffer.from([0x83, 0x00])), 50); // FIN, opcode 3 (reserved)
        s.once('data', () => s.destroy()); // the recorder's close frame: gone without answering
      };
      s.on('data', onData);
    });
    const path = tape('bad-frame.tape');
    const { rec, warnings } = await recorder(path, `ws://127.0.0.1:${port}`);
    const ws = await open(rec.addresses.ws!);
    expect(await closeOf(ws)).toEqual({ code: 1006, reason: '' });
    await rec.stop();
    expect(warnings).toEqual([]);
    const kinds = frameList(path);
    expect(kinds.filter((k) => k.includes('transport.error'))).toEqual(['meta transport.error {"error":"Invalid WebSocket frame: invalid opcode 3"}']);
    expect(kinds.filter((k) => k.includes('ws.close'))).toEqual(['s2c ws.close {"code":1006,"reason":""}']);
  });

  it('a client that resets its connection while the upstream has not answered: the upstream connection is dropped at once', async () => {
    const silent = await tcpServer((s) => s.resume());
    const { rec } = await recorder(tape('reset-pending.tape'), `ws://127.0.0.1:${silent.port}`, 20_000);
    const { host } = new URL(rec.addresses.ws!);
    const raw = await rawClient(rec.addresses.ws!, `GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    await until(() => silent.sockets.length === 1, 5000, 'the upgrade to reach the upstream');
    raw.socket.resetAndDestroy();
    await until(() => silent.sockets[0].destroyed, 5000, 'the upstream connection to be dropped');
  });

  it('a client that resets an open connection: the tape says the client went first', async () => {
    const up = await wsServer();
    const closes: number[] = [];
    up.server.on('connection', (s) => s.on('close', (code) => closes.push(code)));
    const path = tape('reset-open.tape');
    const { rec } = await recorder(path, up.url);
    const { host } = new URL(rec.addresses.ws!);
    const raw = await rawClient(rec.addresses.ws!, `GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    await until(() => raw.got().includes('\r\n\r\n') && up.server.clients.size === 1, 5000, 'the connection to open');
    raw.socket.resetAndDestroy();
    await until(() => closes.length === 1, 5000, 'the upstream to see the drop');
    expect(closes).toEqual([1006]);
    await rec.stop();
    expect(frameList(path).filter((k) => k.includes('ws.close'))).toEqual(['c2s ws.close {"code":1006,"reason":""}']);
  });

  it('without a warning listener a refused upgrade still answers the client', async () => {
    const w = await TapeWriter.create({ path: tape('no-listener.tape'), commandLine: ['test'], redaction: defaultRules() });
    const ch = await startWsProxy(w, { upstream: 'ws://127.0.0.1:1', host: '127.0.0.1', port: 0 });
    const ws = new WebSocket(ch.address);
    onTestFinished(() => ws.terminate());
    ws.on('error', () => undefined);
    const status = await new Promise<number>((r) => ws.once('unexpected-response', (_q, res) => r(res.statusCode!)));
    expect(status).toBe(502);
    await ch.close();
    await w.close();
  });
});

describe('WebSocket recorder: a stop while a close is under way', () => {
  it('a client close the upstream never answers: the stop records no close of its own, drops both within its grace, and a new upgrade meanwhile gets 503', async () => {
    const up = await wsServer();
    let upGot = false;
    up.server.on('connection', (s) =>
      s.on('message', () => {
        upGot = true;
        (s as unknown as { _socket: Socket })._socket.pause(); // reads no more: never answers the close
      }),
    );
    const path = tape('close-under-way.tape');
    const { rec } = await recorder(path, up.url);
    const ws = await open(rec.addresses.ws!);
    ws.send('last');
    await until(() => upGot, 5000, 'the message to reach the upstream');
    const closed = closeOf(ws);
    ws.close(4000, 'bye');
    expect(await closed).toEqual({ code: 4000, reason: 'bye' });
    const t0 = performance.now();
    const stopped = rec.stop();
    const late = new WebSocket(rec.addresses.ws!);
    onTestFinished(() => late.terminate());
    late.on('error', () => undefined);
    const refused = await new Promise<number>((resolve, reject) => {
      late.once('open', () => reject(new Error('an upgrade during the stop was accepted')));
      late.once('unexpected-response', (_q, res) => resolve(res.statusCode!));
    });
    expect(refused).toBe(503);
    await stopped;
    expect(performance.now() - t0).toBeLessThan(5000);
    const frames = readFrames(path);
    const first = frames[0].channel;
    expect(frames.filter((f) => f.channel === first).map((f) => `${f.dir} ${f.kind} ${f.data.toString()}`)).toEqual([
      'meta transport.open {}',
      'c2s ws.text last',
      'c2s ws.close {"code":4000,"reason":"bye"}',
      'meta transport.close {"code":1006,"reason":""}',
    ]);
    expect(frames.filter((f) => f.channel !== first).map((f) => `${f.dir} ${f.kind} ${f.data.toString()}`)).toEqual(['meta transport.error {"error":"the recorder is stopping","status":503}']);
  });

  it('a client that stopped reading: held once 8 MiB wait for it; after the grace the tape says how many bytes it never took', async () => {
    const MiB = 1024 * 1024;
    const up = await wsServer();
    up.server.on('connection', (s) => {
      for (let i = 0; i < 64; i++) s.send(Buffer.alloc(MiB, 0x61), { binary: true });
    });
    const path = tape('undelivered.tape');
    const { rec } = await recorder(path, up.url);
    const ws = await open(rec.addresses.ws!);
    (ws as unknown as { _socket: Socket })._socket.pause();
    // Held: the recorded bytes stop growing for a while.
    let last = -1;
    let movedAt = performance.now();
    await until(() => {
      const now = rec.stats().bytes;
      if (now !== last) [last, movedAt] = [now, performance.now()];
      return now > 0 && performance.now() - movedAt > 300;
    }, 20_000, 'the upstream to be held');
    const t0 = performance.now();
    await rec.stop();
    expect(performance.now() - t0).toBeLessThan(5000);
    const errors = readFrames(path).filter((f) => f.kind === 'transport.error').map((f) => JSON.parse(f.data.toString()) as { error: string; undelivered_bytes: number });
    expect(errors).toHaveLength(1);
    const n = errors[0].undelivered_bytes;
    expect(n).toBeGreaterThan(8 * MiB);
    expect(n).toBeLessThan(12 * MiB);
    expect(errors[0]).toEqual({ error: `the client did not take its last ${n} bytes within 1000 ms of the stop; dropped`, undelivered_bytes: n });
  });
});
