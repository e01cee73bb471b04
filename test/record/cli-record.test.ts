import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { ArcpClient } from '../../src/client/client.js';
import { StdioTransport } from '../../src/engine/transport/stdio.js';
import { verifyTape } from '../../src/tape/verify.js';
import { until } from '../helpers/runtime.js';
import { payloads, readFrames, tapeDir } from '../helpers/tape.js';
import { BIN, reap } from '../helpers/cli.js';

const tape = tapeDir();

describe('arcp record (CLI)', () => {
  it('wraps a stdio runtime: the client spawns the recorder, bytes pass unchanged, exit code kept', async () => {
    const path = tape('stdio.tape');
    const child = reap(spawn(process.execPath, [BIN, 'record', '--tape', path, '--', process.execPath, BIN, 'serve', '--stdio', '--token', 'tok=alice'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } }));
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const t = new StdioTransport(child.stdout, child.stdin, child);
    const sent: Buffer[] = [];
    const got: Buffer[] = [];
    t.onFrame((f) => got.push(f.data));
    const send = t.send.bind(t);
    t.send = (d) => (sent.push(Buffer.from(d)), send(d));
    const c = await ArcpClient.connect(async () => t, { token: 'tok', requestTimeoutMs: 10_000 });
    const h = c.submit({ agent: 'progress', input: { total: 3, tickMs: 1 } });
    expect((await h.done).result).toEqual({ indexed: 3 });
    const exited = new Promise((r) => t.onClose(r));
    await c.close();
    t.close();
    expect(await exited).toMatchObject({ code: 0 });
    expect(stderr).toMatch(/recorded .*stdio\.tape/);
    expect(stderr).toMatch(/fingerprint fp1:[0-9a-f]{64}/);
    const frames = readFrames(path);
    const s2c = payloads(frames, ['stdio.line'], 's2c');
    expect(s2c.map(String)).toEqual(got.map(String));
    const c2s = payloads(frames, ['stdio.line'], 'c2s');
    expect(c2s.slice(1).map(String)).toEqual(sent.slice(1).map(String));
    expect(c2s[0].toString()).toContain('[arcp-redacted:1]');
    expect(verifyTape(path)).toMatchObject({ ok: true, unsealed: false });
  });

  it('keeps the wrapped runtime\'s exit code', async () => {
    const r = await execa(process.execPath, [BIN, 'record', '--tape', tape('exit.tape'), '--', process.execPath, '-e', 'process.exit(7)'], { reject: false, input: '' });
    expect(r.exitCode).toBe(7);
  });

  it('SIGINT flushes and seals; kill -9 loses at most the last flush window and the tape still verifies', async () => {
    const up = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => up.once('listening', r));
    up.on('connection', (s) => {
      let i = 0;
      const timer = setInterval(() => {
        for (let k = 0; k < 200; k++) s.send(`{"arcp":"1.1","type":"job.event","event_seq":${i++},"payload":{}}`);
      }, 5);
      s.on('close', () => clearInterval(timer));
    });
    const upstream = `ws://127.0.0.1:${(up.address() as AddressInfo).port}`;
    const run = async (path: string, signal: NodeJS.Signals) => {
      const p = reap(execa(process.execPath, [BIN, 'record', '--upstream', upstream, '--tape', path, '--json'], { reject: false }));
      const url = await new Promise<string>((r) => p.stdout!.once('data', (d) => r(JSON.parse(String(d)).ws)));
      const ws = new WebSocket(url);
      const seen: { t: number; n: number }[] = [];
      let n = 0;
      ws.on('message', () => n++);
      await until(() => n > 20_000, 10_000, '20k frames');
      const timer = setInterval(() => seen.push({ t: Date.now(), n }), 10);
      await new Promise((r) => setTimeout(r, 2200));
      const killedAt = Date.now();
      p.kill(signal);
      const r = await p;
      clearInterval(timer);
      ws.terminate();
      // What the client had 2 s before the kill was recorded. The flush window is 50 ms; the rest is
      // slack for a loaded machine, where the worker (at nice 10) trails a 40k frames/s flood.
      const before = [...seen].reverse().find((s) => s.t <= killedAt - 2000)!.n;
      return { r, before };
    };
    const sealed = tape('sigint.tape');
    const a = await run(sealed, 'SIGINT');
    expect(a.r.exitCode).toBe(0);
    const summary = JSON.parse(a.r.stdout.trim().split('\n').at(-1)!);
    expect(summary.fingerprint).toMatch(/^fp1:/);
    const va = verifyTape(sealed);
    expect(va).toMatchObject({ ok: true, unsealed: false, fingerprint: summary.fingerprint });
    expect(va.frames).toBeGreaterThan(a.before);

    const killed = tape('kill9.tape');
    const b = await run(killed, 'SIGKILL');
    expect(b.r.signal).toBe('SIGKILL');
    const vb = verifyTape(killed);
    expect(vb).toMatchObject({ ok: true, unsealed: true, problems: [] });
    expect(vb.frames).toBeGreaterThan(b.before);
    up.close();
  }, 60_000);
});
