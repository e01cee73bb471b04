import { copyFileSync } from 'node:fs';
import { execa } from 'execa';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { WebSocket } from 'ws';
import { ArcpClient } from '../../src/client/client.js';
import type { Transport } from '../../src/engine/transport/transport.js';
import { record } from '../../src/record/recorder.js';
import { arcp, BIN } from '../helpers/cli.js';
import { playRecordedClient } from '../helpers/recorded-client.js';
import { startRuntime } from '../helpers/runtime.js';
import { readFrames, tapeDir } from '../helpers/tape.js';

const tape = tapeDir();
let rt: Awaited<ReturnType<typeof startRuntime>>;
let echo = '';
let stopped = '';

/** `arcp replay` as users run it, and the ARCP_URL it prints. */
async function replaying(args: string[]) {
  const p = execa(process.execPath, [BIN, 'replay', ...args], { reject: false, env: { NO_COLOR: '1' } });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    p.stdout!.on('data', (d) => {
      out += d;
      const m = /ARCP_URL=(\S+)|^\{"schema":"arcp-replay-listening\/1","ws":"([^"]+)"/.exec(out);
      if (m) resolve(m[1] ?? m[2]);
    });
    void p.then((r) => reject(new Error(`replay exited ${r.exitCode}: ${r.stderr}`)));
  });
  return { p, url };
}

/** A copy of `src` with one byte of frame `seq`'s blob changed (its size kept), or its blob removed. */
function damaged(src: string, name: string, seq: number, how: 'flip' | 'drop'): string {
  const t = tape(name);
  copyFileSync(src, t);
  const db = new Database(t);
  const { blob, data } = db.prepare('SELECT f.blob, b.data FROM frames f JOIN blobs b ON b.id = f.blob WHERE f.seq = ?').get(seq) as { blob: number; data: Buffer };
  if (how === 'drop') db.prepare('DELETE FROM blobs WHERE id = ?').run(blob);
  else {
    const altered = Buffer.from(data);
    altered[altered.length - 1] = 0x20; // its closing brace
    db.prepare('UPDATE blobs SET data = ? WHERE id = ?').run(altered, blob);
  }
  db.close();
  return t;
}

const seqOf = (t: string, has: string, dir: string) => readFrames(t).find((f) => f.dir === dir && f.data.includes(has))!.seq;

beforeAll(async () => {
  rt = await startRuntime();
  echo = tape('echo.tape');
  const rec = await record({ tape: echo, ws: { upstream: rt.url } });
  const c = await ArcpClient.connect(rec.addresses.ws!, { token: 'tok' });
  await c.submit({ agent: 'echo', input: { n: 1 } }).done;
  await c.close();
  await rec.stop();
  // A recording the recorder itself stopped, mid-session.
  stopped = tape('stopped.tape');
  const rec2 = await record({ tape: stopped, ws: { upstream: rt.url } });
  const c2 = await ArcpClient.connect(rec2.addresses.ws!, { token: 'tok' });
  await c2.submit({ agent: 'echo', input: { n: 2 } }).done;
  await rec2.stop();
});
afterAll(() => rt.close());

describe('replay serves only what the tape holds', () => {
  it('as the runtime: a frame whose bytes were changed on disk is never served; the run ends at once, exit 2, one line', async () => {
    const seq = seqOf(echo, '"job.result"', 's2c');
    const t = damaged(echo, 'flipped.tape', seq, 'flip');
    const { p, url } = await replaying([t, '--listen']);
    const run = await playRecordedClient(url, readFrames(echo));
    const r = await p;
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`flipped\\.tape: the bytes of frame ${seq} \\(blob \\d+\\) do not hash to their recorded sha256`));
    expect(run.close[0]).toBe(1011);
    // What the client got is the recording's frames before the altered one, byte for byte; never the altered one.
    const recorded = readFrames(echo).filter((f) => f.dir === 's2c' && f.kind === 'ws.text' && f.seq < seq).map((f) => f.data.toString());
    expect(run.received.map(String)).toEqual(recorded.slice(0, run.received.length));
    expect(run.received.some((b) => b.includes('"job.result"'))).toBe(false);
  });

  it('as the runtime: a frame naming a blob the tape does not hold ends the run, exit 2, in the tape\'s terms', async () => {
    const seq = seqOf(echo, '"job.accepted"', 's2c');
    const t = damaged(echo, 'orphan.tape', seq, 'drop');
    const { p, url } = await replaying([t, '--listen']);
    await playRecordedClient(url, readFrames(echo));
    const r = await p;
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`orphan\\.tape: frame ${seq} names blob \\d+, which the tape does not hold`));
    expect(r.stderr).not.toMatch(/Too small|expected string/);
  });

  it('as the client: a client frame changed on disk is never sent to the runtime; exit 2', async () => {
    const seq = seqOf(echo, '"job.submit"', 'c2s');
    const t = damaged(echo, 'flipped-c2s.tape', seq, 'flip');
    const got: string[] = [];
    const attach = rt.rt.attach.bind(rt.rt);
    rt.rt.attach = (tr: Transport) => {
      tr.onFrame((f) => got.push(String(f.data)));
      attach(tr);
    };
    try {
      const r = await arcp(['replay', t, '--target', rt.url, '--token', 'tok']);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(/do not hash to their recorded sha256/);
      expect(got.some((g) => g.includes('job.submit'))).toBe(false);
    } finally {
      rt.rt.attach = attach;
    }
  });
});

describe('a replay that did not run to its end is not clean', () => {
  it('interrupted before any client connected: "incomplete", exit 1', async () => {
    const { p } = await replaying([echo, '--listen']);
    p.kill('SIGINT');
    const r = await p;
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/incomplete replay of .*echo\.tape: interrupted before any client connected \(0\/\d+ frames replayed\)/);
    expect(r.stdout).not.toMatch(/clean/);
  });

  it('interrupted mid-connection: "incomplete", exit 1, naming the connection not played to the end', async () => {
    const { p, url } = await replaying([echo, '--listen']);
    const ws = new WebSocket(url);
    onTestFinished(() => ws.terminate());
    const first = new Promise((r) => ws.once('message', r));
    await new Promise((r) => ws.once('open', r));
    ws.send(readFrames(echo).find((f) => f.dir === 'c2s' && f.kind === 'ws.text')!.data);
    await first;
    p.kill('SIGINT');
    const r = await p;
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/incomplete replay of .*echo\.tape: interrupted with 1 recorded connection not played to the end \([1-9]\d*\/\d+ frames replayed\)/);
    expect(r.stdout).not.toMatch(/clean/);
  });

  it('no client ever: bounded by --connect-timeout, exit 1', async () => {
    const t0 = performance.now();
    const r = await arcp(['replay', echo, '--listen', '--connect-timeout', '1', '--json']);
    expect(r.exitCode).toBe(1);
    expect(performance.now() - t0).toBeLessThan(8000);
    const report = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(report.divergences[0]).toMatchObject({ reason: 'missing', message: expect.stringMatching(/no client opened connection 1 of 1 within 1 s \(--connect-timeout\)/) });
  });
});

describe('the recorder\'s own close replays as what each side saw', () => {
  it('as the runtime: the client gets the recorder\'s 1001; clean', async () => {
    const frames = readFrames(stopped);
    expect(frames.find((f) => f.kind === 'ws.close')).toMatchObject({ dir: 'meta' });
    const { p, url } = await replaying([stopped, '--listen', '--json']);
    const run = await playRecordedClient(url, frames);
    expect(run.close).toEqual([1001, 'recorder stopping']);
    const r = await p;
    expect(r.exitCode, r.stdout).toBe(0);
    const report = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(report.notes).toContainEqual(expect.stringMatching(/the recording was stopped here by arcp record, which closed both sides with 1001/));
    expect(report.replayFingerprint).toBe(report.tapeFingerprint);
  });

  it('as the client: the runtime gets the recorder\'s 1001; clean', async () => {
    const closes: (number | undefined)[] = [];
    const attach = rt.rt.attach.bind(rt.rt);
    rt.rt.attach = (tr: Transport) => {
      tr.onClose((i) => closes.push(i.code));
      attach(tr);
    };
    try {
      const r = await arcp(['replay', stopped, '--target', rt.url, '--token', 'tok', '--json']);
      expect(r.exitCode, r.stdout).toBe(0);
      expect(closes).toContain(1001);
    } finally {
      rt.rt.attach = attach;
    }
  });
});

describe('faults and speeds are checked', () => {
  it.each([
    [['--fault', 'delay@5=99999999999'], /a delay of 99999999999 ms is more than a day/],
    [['--fault', 'drop@0'], /seq 0 is not a frame \(a tape's seqs start at 1\)/],
    [['--pace', 'recorded', '--speed', 'Infinity'], /--speed Infinity: for no waits at all, use --pace fast/],
    [['--pace', 'recorded', '--speed', '1e-9'], /--speed "1e-9" is not a number from 0.01 to 1000/],
    [['--speed', 'fast'], /--speed "fast" is not a number/],
  ])('%j is refused in one line, exit 2', async (flags, re) => {
    const r = await arcp(['replay', echo, '--listen', ...flags]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(re);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a fault that never fires is a note; one that fires holds its frame as long as it says', async () => {
    const frames = readFrames(echo);
    const result = seqOf(echo, '"job.result"', 's2c');
    const { p, url } = await replaying([echo, '--listen', '--json', '--fault', 'drop@9999', '--fault', `delay@${result}=400`, '--fault', 'duplicate@1']);
    const t0 = performance.now();
    const run = await playRecordedClient(url, frames);
    const r = await p;
    expect(r.exitCode, r.stdout).toBe(0);
    expect(performance.now() - t0).toBeGreaterThan(400);
    expect(run.received.some((b) => b.includes('"job.result"'))).toBe(true);
    const report = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(report.notes).toEqual(expect.arrayContaining([
      `fault: delayed frame ${result} by 400 ms`,
      `fault drop@9999 never fired: the tape has ${frames.length} frames`,
      expect.stringMatching(/^fault duplicate@1 never fired: frame 1 is not one the runtime side sends/),
    ]));
  });
});
