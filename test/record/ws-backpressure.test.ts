import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { record, type Recording } from '../../src/record/recorder.js';
import { verifyTape } from '../../src/tape/verify.js';
import { until } from '../helpers/runtime.js';
import { readFrames, tapeDir } from '../helpers/tape.js';

// As for HTTP (http-backpressure.test.ts): judged at the upstream, which has 200 MiB to send
// and waits while its own socket does not drain. Without the proxy's hold the recorder reads it all.

const tape = tapeDir();
const MiB = 1024 * 1024;
const PLENTY = 200 * MiB;
/** The proxy's 8 MiB towards a side, the sockets' buffers on both hops. */
const SLACK = 48 * MiB;
const STILL_MS = 300;
const CHUNK = Buffer.alloc(64 * 1024, 0x33);

/** Sends binary messages until PLENTY, waiting whenever more than 1 MiB is buffered. */
class Pusher {
  sent = 0;
  done = false;
  private stopAsked = false;
  private movedAt = performance.now();
  private waiting = false;

  async push(s: WebSocket): Promise<void> {
    while (this.sent < PLENTY && !this.stopAsked) {
      s.send(CHUNK, { binary: true });
      this.sent += CHUNK.length;
      this.movedAt = performance.now();
      if (s.bufferedAmount > MiB) {
        this.waiting = true;
        await until(() => s.bufferedAmount < MiB / 4 || s.readyState !== WebSocket.OPEN, 60_000, 'the upstream socket to drain');
        this.waiting = false;
      }
    }
    this.done = true;
    s.close(1000, 'all sent');
  }

  get held(): boolean {
    return this.waiting && performance.now() - this.movedAt > STILL_MS;
  }

  stop(): void {
    this.stopAsked = true;
  }
}

async function upstreamPushing(pusher: Pusher): Promise<string> {
  const up = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => up.once('listening', r));
  onTestFinished(() => {
    for (const c of up.clients) c.terminate();
    up.close();
  });
  up.on('connection', (s) => void pusher.push(s));
  return `ws://127.0.0.1:${(up.address() as AddressInfo).port}`;
}

async function recorder(path: string, upstream: string, tight = false): Promise<Recording> {
  const rec = await record({ tape: path, ws: { upstream }, ...(tight ? { maxBacklogBytes: MiB, flushMs: 5 } : {}) });
  onTestFinished(() => rec.stop().then(() => undefined, () => undefined));
  return rec;
}

function client(url: string): { ws: WebSocket; read: () => number; closed: Promise<number> } {
  const ws = new WebSocket(url);
  onTestFinished(() => ws.terminate());
  let read = 0;
  ws.on('message', (d: Buffer) => (read += d.length));
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  return { ws, read: () => read, closed };
}

const s2cBytes = (path: string) => readFrames(path).filter((f) => f.kind === 'ws.binary' && f.dir === 's2c').reduce((n, f) => n + f.data.length, 0);

describe('WebSocket recorder back-pressure, seen at the upstream', () => {
  it('a client that stops reading holds the upstream back: its buffer stops draining with a bounded amount sent; every byte arrives later', async () => {
    const pusher = new Pusher();
    const path = tape('slow-client.tape');
    const rec = await recorder(path, await upstreamPushing(pusher));
    const c = client(rec.addresses.ws!);
    let stopped = false;
    c.ws.on('message', () => {
      if (stopped || c.read() < 4 * MiB) return;
      stopped = true; // the client reads a few MiB, then stops
      c.ws.pause();
    });
    await until(() => (stopped && pusher.held) || pusher.done, 20_000, 'the upstream to be held back, or to finish');
    expect(pusher.done, 'the upstream sent all it had while the client had stopped reading').toBe(false);
    expect(pusher.sent).toBeLessThan(c.read() + SLACK);
    expect(rec.stats().bytes).toBeLessThan(c.read() + SLACK);
    pusher.stop();
    c.ws.resume();
    expect(await c.closed).toBe(1000);
    await rec.stop();
    expect(c.read()).toBe(pusher.sent);
    expect(s2cBytes(path)).toBe(pusher.sent);
    expect(verifyTape(path).ok).toBe(true);
  }, 30_000);

  it('a tape that cannot keep up holds the upstream back though the client reads at once; nothing is lost when it catches up', async () => {
    const pusher = new Pusher();
    const path = tape('busy-tape.tape');
    const rec = await recorder(path, await upstreamPushing(pusher), true);
    const db = new Database(path);
    db.exec('BEGIN IMMEDIATE'); // the worker waits on the write lock (SQLite's 5 s busy timeout)
    let locked = true;
    const unlock = () => {
      if (!locked) return;
      locked = false;
      db.exec('ROLLBACK');
      db.close();
    };
    onTestFinished(unlock);
    const c = client(rec.addresses.ws!);
    try {
      await until(() => (rec.stats().tapeBehind && pusher.held) || pusher.done, 4000, 'the upstream to be held back, or to finish');
      expect(pusher.done, 'the upstream sent everything past a tape that wrote nothing').toBe(false);
      expect(pusher.sent).toBeLessThan(SLACK);
    } finally {
      unlock();
    }
    pusher.stop();
    expect(await c.closed).toBe(1000);
    const { lost } = rec.stats();
    await rec.stop();
    expect(lost).toBe(0);
    expect(c.read()).toBe(pusher.sent);
    expect(s2cBytes(path)).toBe(pusher.sent);
    expect(verifyTape(path).ok).toBe(true);
  }, 30_000);
});
