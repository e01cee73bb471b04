import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { ArcpClient } from '../../src/client/client.js';
import { record } from '../../src/record/recorder.js';
import { diffTapes } from '../../src/replay/diff.js';
import { driveReplay } from '../../src/replay/driver.js';
import { startRuntime } from '../helpers/runtime.js';
import { tapeDir } from '../helpers/tape.js';
import { BIN } from '../helpers/cli.js';

const tape = tapeDir();
let rt: Awaited<ReturnType<typeof startRuntime>>;
let path = '';

async function work(url: string, total = 4) {
  const c = await ArcpClient.connect(url, { token: 'tok', requestTimeoutMs: 5000 });
  const a = c.submit({ agent: 'progress', input: { total, tickMs: 5 } });
  const b = c.submit({ agent: 'progress', input: { total: 3, tickMs: 7 } });
  await Promise.all([a.done, b.done]);
  await c.listJobs();
  await c.close();
}

async function recordWork(name: string, total = 4) {
  const p = tape(name);
  const rec = await record({ tape: p, ws: { upstream: rt.url } });
  await work(rec.addresses.ws!, total);
  await rec.stop();
  return p;
}

/** The reference runtime behind a relay that alters its job.event stream. */
async function altered(change: 'drop' | 'reorder') {
  const upstream = await freshRuntime();
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  onTestFinished(
    () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  );
  wss.on('connection', (client) => {
    const up = new WebSocket(upstream);
    const early: string[] = [];
    up.on('open', () => early.splice(0).forEach((m) => up.send(m)));
    client.on('message', (d) => (up.readyState === 1 ? up.send(String(d)) : early.push(String(d))));
    let events = 0;
    let held: string | undefined;
    up.on('message', (d) => {
      const text = String(d);
      if (text.includes('"type":"job.event"')) {
        events++;
        if (events === 3 && change === 'drop') return;
        if (events === 2 && change === 'reorder') return void (held = text);
        client.send(text);
        if (held && events === 3) client.send(held);
        return;
      }
      client.send(text);
    });
    client.on('close', () => up.close());
    up.on('close', () => client.close());
  });
  return `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  rt = await startRuntime();
  path = await recordWork('work.tape');
});
afterAll(() => rt.close());

/** A runtime of its own, so no earlier test's jobs show in its listings. */
async function freshRuntime() {
  const f = await startRuntime();
  onTestFinished(() => f.close());
  return f.url;
}

describe('arcp replay as the client (the runtime is under test)', () => {
  it('against the reference runtime: clean despite fresh session, job and request ids', async () => {
    const r = await driveReplay({ tape: path, target: await freshRuntime(), token: 'tok', timeoutMs: 3000 });
    expect(r.divergences).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.replayFingerprint).toBe(r.tapeFingerprint);
    const from = r.substitutions.map((s) => s.from);
    expect(from.some((f) => f.startsWith('sess_'))).toBe(true);
    expect(from.some((f) => f.startsWith('job_'))).toBe(false); // this client never names a job back
  });

  it('over stdio, with the real token for the redacted one', async () => {
    const r = await driveReplay({ tape: path, command: [process.execPath, BIN, 'serve', '--stdio', '--token', 'tok=alice'], token: 'tok', timeoutMs: 5000 });
    expect(r.divergences).toEqual([]);
  });

  it('a runtime that drops one event: divergence naming the gap', async () => {
    const r = await driveReplay({ tape: path, target: await altered('drop'), token: 'tok', timeoutMs: 1500 });
    expect(r.ok).toBe(false);
    const d = r.divergences[0];
    expect(['order', 'mismatch']).toContain(d.reason);
    expect(d.dir).toBe('s2c');
    expect(d.fields.some((f) => !f.tolerated)).toBe(true);
  });

  it('a runtime that reorders two events: divergence at the first out-of-place one', async () => {
    const r = await driveReplay({ tape: path, target: await altered('reorder'), token: 'tok', timeoutMs: 1500 });
    expect(r.ok).toBe(false);
    expect(r.divergences[0].fields.filter((f) => !f.tolerated).map((f) => f.pointer)).toEqual(expect.arrayContaining([expect.stringMatching(/^\/(event_seq|payload\/body\/current)$/)]));
  });

  it('arcp diff: a tape against itself is clean; against a run with another input, the first divergence names the field', async () => {
    expect(diffTapes(path, path).ok).toBe(true);
    const other = await recordWork('other.tape', 5);
    const r = diffTapes(path, other);
    expect(r.ok).toBe(false);
    expect(r.divergences[0].fields.filter((f) => !f.tolerated)).toEqual([{ pointer: '/payload/input/total', expected: 4, actual: 5, rule: 'exact', tolerated: false }]);
  });
});
