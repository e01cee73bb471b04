import { createServer, get, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { record, type Recording } from '../../src/record/recorder.js';
import { verifyTape } from '../../src/tape/verify.js';
import { until } from '../helpers/runtime.js';
import { Pusher, STILL_MS } from '../helpers/pusher.js';
import { readFrames, tapeDir } from '../helpers/tape.js';

// Back-pressure judged by its effect on the far side: a source that must wait is seen waiting
// (its write() returned false and 'drain' has not come), and what it managed to push stays
// bounded, though it had 200 MiB to give. Without the holds the recorder swallows all of it.

const tape = tapeDir();
const MiB = 1024 * 1024;
/** What each source could push if nothing held it back. */
const PLENTY = 200 * MiB;
/** Kernel socket buffers (both hops, both ends), undici's and the proxy's queues: what may pass beyond a stop. */
const SLACK = 48 * MiB;
const CHUNK = Buffer.alloc(64 * 1024, 0x5a);

async function listening(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onTestFinished(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function recorder(path: string, upstream: string, tight = false): Promise<Recording> {
  // A tight backlog (1 MiB, flushed every 5 ms) makes a tape that cannot write congest at once.
  const rec = await record({ tape: path, http: { routes: [{ prefix: '/', upstream }] }, ...(tight ? { maxBacklogBytes: MiB, flushMs: 5 } : {}) });
  // stop() runs once: a second call gets the first one's result.
  onTestFinished(() => rec.stop().then(() => undefined, () => undefined));
  return rec;
}

/** Another connection takes the tape's write lock: the writer's worker waits on it (SQLite's busy timeout is 5 s) and falls behind. */
function lockTape(path: string): () => void {
  const db = new Database(path);
  db.exec('BEGIN IMMEDIATE');
  let held = true;
  const unlock = () => {
    if (!held) return;
    held = false;
    db.exec('ROLLBACK');
    db.close();
  };
  onTestFinished(unlock);
  return unlock;
}

const bodyBytes = (path: string, kind: string) => readFrames(path).filter((f) => f.kind === kind).reduce((n, f) => n + f.data.length, 0);

describe('HTTP recorder back-pressure, seen at the upstream and the client', () => {
  it('a client that stops reading holds the upstream back: its write() waits for drain, a bounded amount has left it; every byte arrives later', async () => {
    const pusher = new Pusher(CHUNK, PLENTY);
    const upstream = await listening(
      createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        void pusher.push(res);
      }),
    );
    const path = tape('slow-client.tape');
    const rec = await recorder(path, upstream);
    let read = 0;
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = get(`${rec.addresses.http!}/big`, resolve).on('error', reject);
      onTestFinished(() => void req.destroy());
    });
    const ended = new Promise<void>((r) => response.once('end', r));
    let stopped = false;
    response.on('data', (d: Buffer) => {
      read += d.length;
      if (read < 4 * MiB || stopped) return;
      stopped = true; // the client reads a few MiB, then stops
      response.pause();
    });
    await until(() => (response.isPaused() && pusher.held) || pusher.done, 20_000, 'the upstream to be held back, or to finish');
    expect(pusher.done, 'the upstream pushed all it had while the client had stopped reading').toBe(false);
    expect(pusher.written).toBeLessThan(read + SLACK);
    // What the recorder took from the upstream (recorded as it came) is bounded just the same.
    expect(rec.stats().bytes).toBeLessThan(read + SLACK);

    pusher.stop();
    response.resume();
    await ended;
    await rec.stop();
    expect(read).toBe(pusher.written);
    expect(bodyBytes(path, 'http.response.body')).toBe(pusher.written);
    expect(verifyTape(path).ok).toBe(true);
  }, 30_000);

  it('a tape that cannot keep up holds the upstream back though the client reads at once; nothing is lost when it catches up', async () => {
    const pusher = new Pusher(CHUNK, PLENTY);
    const upstream = await listening(
      createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        void pusher.push(res);
      }),
    );
    const path = tape('busy-tape.tape');
    const rec = await recorder(path, upstream, true);
    let read = 0;
    const unlock = lockTape(path);
    const ended = new Promise<void>((resolve, reject) => {
      const req = get(`${rec.addresses.http!}/big`, (response) => {
        response.on('data', (d: Buffer) => (read += d.length));
        response.once('end', resolve);
      }).on('error', reject);
      onTestFinished(() => void req.destroy());
    });
    try {
      // Within the worker's 5 s busy timeout: past it, the batch would be lost instead of late.
      await until(() => (rec.stats().tapeBehind && pusher.held) || pusher.done, 4000, 'the upstream to be held back, or to finish');
      expect(pusher.done, 'the upstream pushed everything past a tape that wrote nothing').toBe(false);
      expect(pusher.written).toBeLessThan(SLACK);
    } finally {
      unlock();
    }
    pusher.stop();
    await ended;
    const { lost } = rec.stats();
    await rec.stop();
    expect(lost).toBe(0);
    expect(read).toBe(pusher.written);
    expect(bodyBytes(path, 'http.response.body')).toBe(pusher.written);
    expect(verifyTape(path).ok).toBe(true);
  }, 30_000);

  it('a tape that cannot keep up holds back a client sending a request body: its write() waits for drain; the upstream gets every byte later', async () => {
    let received = 0;
    const upstream = await listening(
      createServer((req, res) => {
        req.on('data', (d: Buffer) => (received += d.length));
        req.once('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end(String(received)));
      }),
    );
    const path = tape('busy-tape-upload.tape');
    const rec = await recorder(path, upstream, true);
    const unlock = lockTape(path);
    const pusher = new Pusher(CHUNK, PLENTY);
    const answer = new Promise<string>((resolve, reject) => {
      const req = request(`${rec.addresses.http!}/upload`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' } }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d));
        res.once('end', () => resolve(text));
      }).on('error', reject);
      onTestFinished(() => void req.destroy());
      void pusher.push(req);
    });
    try {
      await until(() => (rec.stats().tapeBehind && pusher.held) || pusher.done, 4000, 'the client to be held back, or to finish');
      expect(pusher.done, 'the client sent everything past a tape that wrote nothing').toBe(false);
      expect(pusher.written).toBeLessThan(SLACK);
    } finally {
      unlock();
    }
    // The upload goes on once the tape catches up, and is held again the next time it falls behind.
    const resumedFrom = pusher.written;
    await until(() => pusher.written > resumedFrom + 8 * MiB || pusher.done, 10_000, 'the upload to go on');
    const again = lockTape(path);
    const lockedAt = pusher.written;
    try {
      await until(() => (rec.stats().tapeBehind && pusher.held) || pusher.done, 4000, 'the client to be held back again, or to finish');
      expect(pusher.done, 'the client sent everything the second time the tape fell behind').toBe(false);
      expect(pusher.written - lockedAt).toBeLessThan(SLACK);
    } finally {
      again();
    }
    pusher.stop();
    expect(Number(await answer)).toBe(pusher.written);
    const { lost } = rec.stats();
    await rec.stop();
    expect(lost).toBe(0);
    expect(bodyBytes(path, 'http.request.body')).toBe(pusher.written);
    expect(verifyTape(path).ok).toBe(true);
  }, 30_000);
});
