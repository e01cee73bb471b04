import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { record } from '../../src/record/recorder.js';
import { verifyTape } from '../../src/tape/verify.js';
import { readFrames, tapeDir } from '../helpers/tape.js';

const tape = tapeDir();
const LINES = 20_000;
const line = (i: number) => `{"type":"job.event","seq":${i},"pad":"${'x'.repeat(400)}"}`;
/** Echoes every line it reads, then writes LINES of its own. */
const CHILD = `process.stdin.pipe(process.stdout, { end: false });
process.stdin.on('end', () => { let i = 0; const more = () => { while (i < ${LINES}) { const ok = process.stdout.write(JSON.stringify({ type: 'job.event', seq: i, pad: 'x'.repeat(400) }) + '\\n'); i++; if (!ok) return process.stdout.once('drain', more); } process.stdout.end(); }; more(); });`;

describe('stdio wrapper: a tape writer that falls behind', () => {
  it('pauses both directions until it catches up; every line arrives and is recorded, in order', async () => {
    const path = tape('behind.tape');
    const input = new PassThrough();
    const output = new PassThrough();
    const out: Buffer[] = [];
    output.on('data', (d: Buffer) => out.push(d));
    const rec = await record({ tape: path, stdio: { command: [process.execPath, '-e', CHILD], input, output }, maxBacklogBytes: 64 * 1024, flushMs: 5 });
    const sent = Array.from({ length: LINES }, (_, i) => line(i) + '\n').join('');
    input.end(sent);
    await rec.done;
    const { tapePauses } = rec.stats();
    await rec.stop();
    const expected = sent + Array.from({ length: LINES }, (_, i) => line(i) + '\n').join('');
    expect(Buffer.concat(out).toString()).toBe(expected);
    expect(tapePauses).toBeGreaterThan(0);
    const frames = readFrames(path).filter((f) => f.kind === 'stdio.line');
    expect(frames.filter((f) => f.dir === 'c2s').map((f) => f.data.toString())).toEqual(Array.from({ length: LINES }, (_, i) => line(i)));
    expect(frames.filter((f) => f.dir === 's2c').map((f) => f.data.toString())).toEqual([...Array.from({ length: LINES }, (_, i) => line(i)), ...Array.from({ length: LINES }, (_, i) => line(i))]);
    expect(verifyTape(path).ok).toBe(true);
  }, 30_000);
});
