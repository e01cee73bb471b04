import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { serveReplay } from '../../src/replay/serve.js';
import { playRecordedClient } from '../helpers/recorded-client.js';
import { readFrames, tapeDir } from '../helpers/tape.js';
import { BIN } from '../helpers/cli.js';
import { startRuntime, until } from '../helpers/runtime.js';

const tape = tapeDir();

/** A private mount namespace with a small tmpfs: a real full disk for one process tree, nothing mounted for anyone else. */
const canMountTmpfs = (() => {
  try {
    execFileSync('unshare', ['-rm', 'sh', '-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d"'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
})();

let rt: Awaited<ReturnType<typeof startRuntime>>;
beforeAll(async () => (rt = await startRuntime()));
afterAll(() => rt.close());

const read = (file: string): string => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

/** The recorder's process (the shell's child in the namespace). */
function childOf(pid: number): number {
  const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return kids[0];
}

describe.skipIf(!canMountTmpfs)('arcp record on a disk that fills up (a 3 MiB tmpfs)', () => {
  it('forwarding goes on; the stop says how many frames were lost and why (exit 1); the tape records the gap, read in place', async () => {
    const out = tape('out');
    mkdirSync(out);
    const disk = tape('disk');
    mkdirSync(disk);
    // Inside the namespace: mount, record until SIGTERM, then verify in place and copy every file out.
    const script = [
      `mount -t tmpfs -o size=3m tmpfs "${disk}"`,
      `"${process.execPath}" "${BIN}" record --upstream ${rt.url} --tape "${disk}/full.tape" --json -q > "${out}/record.json" 2> "${out}/record.err"`,
      `echo $? > "${out}/record.rc"`,
      `"${process.execPath}" "${BIN}" tape verify "${disk}/full.tape" --json > "${out}/verify.json" 2> "${out}/verify.err"`,
      `echo $? > "${out}/verify.rc"`,
      `cp -a "${disk}"/. "${out}"/`,
    ].join('\n');
    const ns = spawn('unshare', ['-rm', 'sh', '-c', script], { stdio: 'ignore', env: { ...process.env, NO_COLOR: '1' } });
    const done = new Promise((r) => ns.once('exit', r));
    await until(() => read(`${out}/record.json`).includes('"ws"'), 30_000, 'the recorder to listen');
    const url = JSON.parse(read(`${out}/record.json`).split('\n')[0]).ws as string;
    const ws = new WebSocket(url);
    await new Promise((r) => ws.once('open', r));
    let received = 0;
    let result = false;
    ws.on('message', (d) => {
      received++;
      if (String(d).includes('"job.result"')) result = true;
    });
    const sent = [
      '{"arcp":"1.1","id":"m1","type":"session.hello","payload":{"client":{"name":"t","version":"1"},"auth":{"scheme":"bearer","token":"tok"},"capabilities":{"encodings":["json"]}}}',
      '{"arcp":"1.1","id":"m2","type":"job.submit","payload":{"agent":"flood","input":{"count":30000}}}',
    ];
    for (const s of sent) ws.send(s);
    await until(() => result, 30_000, 'the whole flood through the recorder');
    ws.close(1000);
    await until(() => ws.readyState === WebSocket.CLOSED, 5000, 'the close handshake');
    await new Promise((r) => setTimeout(r, 200)); // the recorder sees the upstream's close too
    process.kill(childOf(ns.pid!), 'SIGTERM');
    await done;

    expect(readFileSync(`${out}/record.rc`, 'utf8').trim()).toBe('1');
    expect(readFileSync(`${out}/record.err`, 'utf8')).toMatch(/full\.tape: disk full .*frames are not being written \(traffic still flows\); the tape records the gap/);
    const summary = JSON.parse(readFileSync(`${out}/record.json`, 'utf8').trim().split('\n').at(-1)!);
    expect(summary.lost).toMatchObject({ reason: expect.stringMatching(/^disk full/), recorded: true });
    expect(summary.lost.frames).toBeGreaterThan(1000);

    // Read in place, on the full disk: the gap is a problem, with what was dropped and when.
    expect(readFileSync(`${out}/verify.rc`, 'utf8').trim()).toBe('1');
    const v = JSON.parse(readFileSync(`${out}/verify.json`, 'utf8'));
    expect(v.gaps.length).toBeGreaterThanOrEqual(1);
    expect(v.problems[0]).toMatch(/frames \(.* bytes, channel 1\) were forwarded but not recorded after seq \d+, from .* s to .* s .*: disk full/);
    const lostInGaps = v.gaps.reduce((n: number, g: { frames: number }) => n + g.frames, 0);
    expect(lostInGaps).toBe(summary.lost.frames);

    // Nothing else is missing: what the tape holds plus the gap is every frame that crossed.
    const frames = readFrames(join(out, 'full.tape'));
    const events = 3; // transport.open, the client's ws.close, transport.close
    expect(frames.length + lostInGaps).toBe(received + sent.length + events);
    expect(frames.map((f) => f.seq)).toEqual(frames.map((_f, i) => i + 1));

    // Replay reports the gap too, and serves what the tape holds.
    const served = await serveReplay({ tape: join(out, 'full.tape'), listen: {}, timeoutMs: 5000 });
    const run = await playRecordedClient(served.addresses.ws!, frames);
    const report = await served.done;
    expect(report.notes).toContainEqual(expect.stringMatching(/^the tape has a gap: [\d,]+ frames .* were forwarded but not recorded after seq \d+/));
    expect(run.received.length).toBe(frames.filter((f) => f.dir === 's2c' && f.kind === 'ws.text').length);
  }, 90_000);

  it('tape import onto a full disk: exit 1, the summary says how many frames were lost, the tape records the gap', async () => {
    const out = tape('import-out');
    mkdirSync(out);
    const disk = tape('import-disk');
    mkdirSync(disk);
    const capture = join(out, 'big.jsonl');
    const t0 = Date.parse('2026-11-22T04:16:57.766Z');
    writeFileSync(capture, Array.from({ length: 20_000 }, (_v, i) => JSON.stringify({ i, ts: new Date(t0 + i).toISOString(), mono_ms: i, scenario: 'big', conn: 'A', dir: i % 2 ? 's2c' : 'c2s', raw: JSON.stringify({ arcp: '1.1', id: `msg_${i}`, type: 'job.event', payload: { n: i, pad: 'x'.repeat(300) } }) })).join('\n'));
    const script = [
      `mount -t tmpfs -o size=3m tmpfs "${disk}"`,
      `"${process.execPath}" "${BIN}" tape import "${capture}" --tape "${disk}/big.tape" --json > "${out}/import.json" 2> "${out}/import.err"`,
      `echo $? > "${out}/import.rc"`,
      `"${process.execPath}" "${BIN}" tape verify "${disk}/big.tape" --json > "${out}/verify.json"`,
    ].join('\n');
    const ns = spawn('unshare', ['-rm', 'sh', '-c', script], { stdio: 'ignore', env: { ...process.env, NO_COLOR: '1' } });
    await new Promise((r) => ns.once('exit', r));
    expect(read(`${out}/import.rc`).trim(), read(`${out}/import.err`)).toBe('1');
    const summary = JSON.parse(read(`${out}/import.json`));
    expect(summary.lost).toMatchObject({ reason: expect.stringMatching(/^disk full/), recorded: true });
    const v = JSON.parse(read(`${out}/verify.json`));
    expect(v.frames + summary.lost.frames).toBe(20_000);
    expect(v.gaps.reduce((n: number, g: { frames: number }) => n + g.frames, 0)).toBe(summary.lost.frames);
  }, 90_000);
});
