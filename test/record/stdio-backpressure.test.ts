import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { record, type Recording } from '../../src/record/recorder.js';
import { verifyTape } from '../../src/tape/verify.js';
import { until } from '../helpers/runtime.js';
import { Pusher, STILL_MS } from '../helpers/pusher.js';
import { readFrames, tapeDir } from '../helpers/tape.js';

// As for WebSocket and HTTP (ws-backpressure.test.ts, http-backpressure.test.ts): the hold is
// judged where the bytes come from. A child flooding its stdout, or a client flooding stdin,
// has 200 MiB to give; while the tape cannot write, the source must be seen waiting with a
// bounded amount pushed. Without the wrapper's hold it pushes it all into the recorder's memory.

const tape = tapeDir();
const MiB = 1024 * 1024;
const PLENTY = 200 * MiB;
/** The pipe to or from the child, the streams' buffers on both sides, the writer's 1 MiB backlog. */
const SLACK = 16 * MiB;
/** 64 KiB of 4 KiB lines: the wrapper records one frame per line. */
const LINE = 4096;
const CHUNK = Buffer.from(('x'.repeat(LINE - 1) + '\n').repeat(16));

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

async function wrapping(path: string, child: string, args: string[], input: PassThrough, output: PassThrough): Promise<Recording> {
  // A tight backlog (1 MiB, flushed every 5 ms) makes a tape that cannot write congest at once.
  const rec = await record({ tape: path, stdio: { command: [process.execPath, '-e', child, ...args], input, output }, maxBacklogBytes: MiB, flushMs: 5 });
  onTestFinished(() => rec.stop().then(() => undefined, () => undefined));
  return rec;
}

const lineBytes = (path: string, dir: string) => readFrames(path).filter((f) => f.kind === 'stdio.line' && f.dir === dir).reduce((n, f) => n + f.data.length + 1, 0);

/**
 * From its first line of stdin on, writes CHUNKs to its stdout until PLENTY or its stdin ends, waiting for 'drain' when write()
 * says so (a pipe's writes on Linux block instead). Before each write it puts the count so far
 * in the file named by its first argument, so the test sees what it pushed and whether it moves.
 */
const FLOODING_CHILD = `const fs = require('node:fs');
const status = process.argv[1];
const chunk = Buffer.from(('x'.repeat(${LINE - 1}) + '\\n').repeat(16));
let written = 0, stop = false;
process.stdin.on('end', () => (stop = true));
const more = () => {
  if (stop || written >= ${PLENTY}) return fs.writeFileSync(status, written + ' done'), process.stdout.end();
  written += chunk.length;
  fs.writeFileSync(status, String(written));
  if (process.stdout.write(chunk)) setImmediate(more);
  else process.stdout.once('drain', more);
};
process.stdin.once('data', () => (process.stdin.on('data', () => undefined), more()));`;

/** What the flooding child reports: bytes pushed so far, done, and whether the count has stood still STILL_MS. */
class ChildStatus {
  written = 0;
  done = false;
  private movedAt = performance.now();
  constructor(private readonly path: string) {}

  poll(): this {
    let text = '';
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return this; // not written yet
    }
    const m = /^(\d+)( done)?$/.exec(text);
    if (!m) return this; // caught between truncate and write
    if (Number(m[1]) !== this.written) this.movedAt = performance.now();
    this.written = Number(m[1]);
    this.done = Boolean(m[2]);
    return this;
  }

  get held(): boolean {
    return !this.done && this.written > 0 && performance.now() - this.movedAt > STILL_MS;
  }
}


describe('stdio wrapper back-pressure, seen at the child and at the client', () => {
  it('a tape that cannot keep up holds back a child flooding its stdout though the client reads at once; every byte arrives later', async () => {
    const path = tape('busy-tape-stdout.tape');
    const status = new ChildStatus(tape('child-status'));
    const input = new PassThrough();
    const output = new PassThrough();
    let read = 0;
    output.on('data', (d: Buffer) => (read += d.length));
    const rec = await wrapping(path, FLOODING_CHILD, [tape('child-status')], input, output);
    const unlock = lockTape(path);
    input.write('go\n');
    try {
      // Within the worker's 5 s busy timeout: past it, the batch would be lost instead of late.
      await until(() => (rec.stats().tapeBehind && status.poll().held) || status.done, 4000, 'the child to be held back, or to finish');
      expect(status.done, 'the child pushed everything past a tape that wrote nothing').toBe(false);
      expect(status.written).toBeLessThan(SLACK);
      expect(rec.stats().bytes).toBeLessThan(SLACK);
    } finally {
      unlock();
    }
    input.end(); // the child stops at its stdin's end
    await rec.done;
    const { lost } = rec.stats();
    await rec.stop();
    status.poll();
    expect(status.done).toBe(true);
    expect(lost).toBe(0);
    expect(read).toBe(status.written);
    expect(lineBytes(path, 's2c')).toBe(status.written);
    expect(readFrames(path).filter((f) => f.dir === 'c2s' && f.kind === 'stdio.line').map((f) => f.data.toString())).toEqual(['go']);
    expect(verifyTape(path).ok).toBe(true);
  }, 30_000);

  it('a client that stops reading holds back a child flooding its stdout: a bounded amount has left it; every byte arrives later', async () => {
    const path = tape('slow-client.tape');
    const status = new ChildStatus(tape('slow-client-status'));
    const input = new PassThrough();
    const output = new PassThrough();
    let read = 0;
    let stopped = false;
    output.on('data', (d: Buffer) => {
      read += d.length;
      if (read < 4 * MiB || stopped) return;
      stopped = true; // the client reads a few MiB, then stops
      output.pause();
    });
    const rec = await wrapping(path, FLOODING_CHILD, [tape('slow-client-status')], input, output);
    input.write('go\n');
    await until(() => (stopped && status.poll().held) || status.done, 20_000, 'the child to be held back, or to finish');
    expect(status.done, 'the child pushed everything while the client had stopped reading').toBe(false);
    expect(status.written).toBeLessThan(read + SLACK);
    expect(rec.stats().bytes).toBeLessThan(read + SLACK);
    input.end();
    output.resume();
    await rec.done;
    await rec.stop();
    expect(status.poll().done).toBe(true);
    expect(read).toBe(status.written);
    expect(lineBytes(path, 's2c')).toBe(status.written);
    expect(verifyTape(path).ok).toBe(true);
  }, 30_000);

  it('a tape that cannot keep up holds back a client flooding stdin: its write() waits for drain; the child gets every byte later', async () => {
    const path = tape('busy-tape-stdin.tape');
    const input = new PassThrough();
    const output = new PassThrough();
    let answer = '';
    output.on('data', (d: Buffer) => (answer += d));
    // Counts what it reads, and says so once its stdin ends.
    const rec = await wrapping(path, `let got = 0; process.stdin.on('data', (d) => (got += d.length)).on('end', () => process.stdout.write(JSON.stringify({ got }) + '\\n'));`, [], input, output);
    const unlock = lockTape(path);
    const pusher = new Pusher(CHUNK, PLENTY);
    void pusher.push(input);
    try {
      await until(() => (rec.stats().tapeBehind && pusher.held) || pusher.done, 4000, 'the client to be held back, or to finish');
      expect(pusher.done, 'the client sent everything past a tape that wrote nothing').toBe(false);
      expect(pusher.written).toBeLessThan(SLACK);
      expect(rec.stats().bytes).toBeLessThan(SLACK);
    } finally {
      unlock();
    }
    pusher.stop();
    await rec.done;
    const { lost } = rec.stats();
    await rec.stop();
    expect(lost).toBe(0);
    expect(JSON.parse(answer)).toEqual({ got: pusher.written });
    expect(lineBytes(path, 'c2s')).toBe(pusher.written);
    expect(verifyTape(path).ok).toBe(true);
  }, 30_000);
});
