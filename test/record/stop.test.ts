import { spawn } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { record } from '../../src/record/recorder.js';
import type { Transport } from '../../src/engine/transport/transport.js';
import { verifyTape } from '../../src/tape/verify.js';
import { BIN } from '../helpers/cli.js';
import { startRuntime, until } from '../helpers/runtime.js';
import { readFrames, tapeDir } from '../helpers/tape.js';

const tape = tapeDir();
const ROOT = join(import.meta.dirname, '../..');
const HELLO = '{"arcp":"1.1","id":"m1","type":"session.hello","payload":{"client":{"name":"t","version":"1"},"auth":{"scheme":"bearer","token":"tok"},"capabilities":{"encodings":["json"]}}}';

/** `arcp record` as users run it; resolves once it prints where clients connect. */
async function recorder(args: string[]) {
  const p = execa(process.execPath, [BIN, 'record', '--json', '-q', ...args], { reject: false, env: { NO_COLOR: '1' } });
  const url = await new Promise<string>((resolve, reject) => {
    p.stdout!.once('data', (d) => resolve(JSON.parse(String(d).split('\n')[0]).ws));
    void p.then((r) => reject(new Error(`record exited: ${r.stderr}`)));
  });
  return { p, url };
}

/** A client's upgrade through the recorder: the HTTP status and body it was answered with, or 101. */
function upgrade(url: string): Promise<{ status: number; body: string; ws?: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve({ status: 101, body: '', ws }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', reject);
  });
}

describe('stopping the recorder', () => {
  let silent: ReturnType<typeof createServer>;
  const held: Socket[] = [];
  beforeAll(async () => {
    // Accepts TCP and never answers the WebSocket upgrade.
    silent = createServer((s) => held.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  });
  afterAll(() => {
    for (const s of held) s.destroy();
    silent.close();
  });

  it('an upstream that never answers the upgrade: the client gets a 504 in time, and SIGINT stops at once, answering waiting clients 503', async () => {
    const path = tape('silent.tape');
    const { p, url } = await recorder(['--upstream', `ws://127.0.0.1:${(silent.address() as AddressInfo).port}`, '--upstream-timeout', '1', '--tape', path]);
    const t0 = performance.now();
    const timedOut = await upgrade(url);
    expect(timedOut.status).toBe(504);
    expect(timedOut.body).toMatch(/did not answer the WebSocket upgrade within 1 s/);
    expect(performance.now() - t0).toBeLessThan(5000);
    const waiting = upgrade(url);
    await until(() => held.length >= 2, 5000, 'the second upgrade to reach the upstream');
    const stoppedAt = performance.now();
    p.kill('SIGINT');
    expect(await waiting).toMatchObject({ status: 503, body: expect.stringMatching(/the recorder is stopping/) });
    const r = await p;
    expect(performance.now() - stoppedAt).toBeLessThan(2500);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/did not answer the WebSocket upgrade within 1 s/);
    const errors = readFrames(path).filter((f) => f.kind === 'transport.error').map((f) => JSON.parse(String(f.data)).status);
    expect(errors).toEqual([504, 503]);
  });

  it('a second signal while stopping exits at once; the tape reads as unsealed', async () => {
    const up = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => up.once('listening', r));
    const path = tape('twice.tape');
    const { p, url } = await recorder(['--upstream', `ws://127.0.0.1:${(up.address() as AddressInfo).port}`, '--tape', path]);
    // A client that upgrades and then never reads again: it will not answer the stop's close.
    const { ws } = await upgrade(url);
    (ws as unknown as { _socket: Socket })._socket.pause();
    p.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 50));
    p.kill('SIGTERM');
    const r = await p;
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/stopped at once on a second signal; .*twice\.tape is left unsealed/);
    expect(r.stdout.trim().split('\n')).toHaveLength(1); // no summary
    expect(verifyTape(path)).toMatchObject({ ok: true, unsealed: true });
    ws!.terminate();
    up.close();
  });

  it('SIGINT under a flood: what the client got, what the runtime got and what the tape holds are equal; the stop is the recorder\'s own close', async () => {
    const rt = await startRuntime();
    let runtimeGot = 0;
    const attach = rt.rt.attach.bind(rt.rt);
    rt.rt.attach = (t: Transport) => {
      t.onFrame(() => runtimeGot++);
      attach(t);
    };
    const path = tape('flood.tape');
    const { p, url } = await recorder(['--upstream', rt.url, '--tape', path]);
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise((r) => ws.once('open', r));
    let got = 0;
    ws.on('message', () => got++);
    const closed = new Promise<[number, string]>((r) => ws.once('close', (code, reason) => r([code, String(reason)])));
    ws.send(HELLO);
    ws.send('{"arcp":"1.1","id":"m2","type":"job.submit","payload":{"agent":"flood","input":{"count":2000000}}}');
    await until(() => got > 50_000, 20_000, '50k frames through the recorder');
    const stoppedAt = performance.now();
    p.kill('SIGINT');
    expect(await closed).toEqual([1001, 'recorder stopping']);
    const r = await p;
    expect(r.exitCode, r.stderr).toBe(0);
    expect(performance.now() - stoppedAt).toBeLessThan(3000);
    await rt.close();

    const frames = readFrames(path);
    expect(frames.filter((f) => f.dir === 's2c' && f.kind === 'ws.text')).toHaveLength(got);
    expect(frames.filter((f) => f.dir === 'c2s' && f.kind === 'ws.text')).toHaveLength(runtimeGot);
    expect(runtimeGot).toBe(2);
    const close = frames.findIndex((f) => f.kind === 'ws.close');
    expect(frames[close]).toMatchObject({ dir: 'meta' });
    expect(JSON.parse(String(frames[close].data))).toEqual({ code: 1001, reason: 'recorder stopping', by: 'recorder' });
    expect(frames.slice(close + 1).map((f) => f.kind)).toEqual(['transport.close']);
    expect(verifyTape(path)).toMatchObject({ ok: true, unsealed: false });
  });
});

describe('which side went away', () => {
  /** A peer in its own process, so that kill -9 is real: a flooding upstream, or a client that reads. */
  const peer = (kind: 'client' | 'upstream', arg: string) =>
    spawn(process.execPath, ['-e', kind === 'upstream'
      ? `const { WebSocketServer } = require('ws'); const s = new WebSocketServer({ host: '127.0.0.1', port: 0 });
         s.on('listening', () => console.log(s.address().port));
         s.on('connection', (c) => setInterval(() => { for (let i = 0; i < 100; i++) c.send('{"type":"job.event","payload":{}}'); }, 2));`
      : `const { WebSocket } = require('ws'); const c = new WebSocket(${JSON.stringify(arg)}); let n = 0;
         c.on('message', () => { if (++n === 2000) console.log('flowing'); });`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = (c: ReturnType<typeof spawn>) => new Promise<string>((r) => c.stdout!.once('data', (d) => r(String(d).trim())));

  it('a client killed mid-stream (kill -9) is recorded as the client\'s close, every time', async () => {
    const upstream = peer('upstream', '');
    const port = await line(upstream);
    try {
      for (let run = 0; run < 3; run++) {
        const path = tape(`client-killed-${run}.tape`);
        const rec = await record({ tape: path, ws: { upstream: `ws://127.0.0.1:${port}` } });
        const client = peer('client', rec.addresses.ws!);
        await line(client);
        client.kill('SIGKILL');
        await until(() => rec.stats().active === 0, 10_000, 'the recorder to see both sides closed');
        await rec.stop();
        const close = readFrames(path).find((f) => f.kind === 'ws.close')!;
        expect({ run, dir: close.dir, code: JSON.parse(String(close.data)).code }).toEqual({ run, dir: 'c2s', code: 1006 });
      }
    } finally {
      upstream.kill('SIGKILL');
    }
  });

  it('an upstream killed mid-stream (kill -9) is recorded as the runtime\'s close', async () => {
    const upstream = peer('upstream', '');
    const port = await line(upstream);
    const path = tape('upstream-killed.tape');
    const rec = await record({ tape: path, ws: { upstream: `ws://127.0.0.1:${port}` } });
    const client = new WebSocket(rec.addresses.ws!);
    let n = 0;
    client.on('message', () => n++);
    await until(() => n > 2000, 10_000, 'the flood to flow');
    upstream.kill('SIGKILL');
    await until(() => rec.stats().active === 0, 10_000, 'the recorder to see both sides closed');
    await rec.stop();
    const close = readFrames(path).find((f) => f.kind === 'ws.close')!;
    expect({ dir: close.dir, code: JSON.parse(String(close.data)).code }).toEqual({ dir: 's2c', code: 1006 });
  });
});
