import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { record } from '../../src/record/recorder.js';
import { driveReplay } from '../../src/replay/driver.js';
import { readFrames, tapeDir } from '../helpers/tape.js';

const tape = tapeDir();
const RUNTIME = join(import.meta.dirname, '../peers/stranger-stdio-runtime.mjs');
const runtime = (...args: string[]) => [process.execPath, RUNTIME, ...args];

const HELLO = '{"arcp":"1.1","id":"msg_1","type":"session.hello","payload":{"client":{"name":"t","version":"1"},"auth":{"scheme":"bearer","token":"x"}}}';
const SUBMIT = '{"arcp":"1.1","id":"msg_2","type":"job.submit","payload":{"agent":"echo","input":{"n":1}}}';

/** Records a client that says hello and submits; `endInput` then closes the runtime's stdin. */
async function recordStdio(path: string, command: string[], endInput: boolean) {
  const input = new PassThrough();
  const output = new PassThrough();
  const got: string[] = [];
  output.on('data', (d: Buffer) => got.push(...d.toString().split('\n').filter(Boolean)));
  const rec = await record({ tape: path, stdio: { command, input, output } });
  input.write(`${HELLO}\n${SUBMIT}\n`);
  while (!got.some((l) => l.includes('job.result'))) await new Promise((r) => setTimeout(r, 10));
  if (endInput) input.end();
  await rec.done;
  const summary = await rec.stop();
  return summary.exitCode;
}

const ends = (path: string) => readFrames(path).filter((f) => f.kind === 'transport.close').map((f) => `${f.dir} ${f.data.toString()}`);

describe('stdio: who ended first, and the runtime\'s exit code, are recorded and reproduced', () => {
  it('the client ends its input, the runtime exits 0: the tape says so, and replay ends the input at that point', async () => {
    const path = tape('eof.tape');
    expect(await recordStdio(path, runtime(), true)).toBe(0);
    expect(ends(path)).toEqual(['c2s {"eof":true}', 's2c {"eof":true}', 'meta {"code":0,"reason":"exit"}']);
    const r = await driveReplay({ tape: path, command: runtime(), timeoutMs: 3000 });
    expect(r.divergences).toEqual([]);
    expect(r.replayFingerprint).toBe(r.tapeFingerprint);
  });

  it('the runtime exits on its own with 3: replay leaves the input open, waits, and compares the code', async () => {
    const path = tape('exit3.tape');
    expect(await recordStdio(path, runtime('--exit', '3'), false)).toBe(3);
    expect(ends(path)).toEqual(['s2c {"eof":true}', 'meta {"code":3,"reason":"exit"}']);
    const same = await driveReplay({ tape: path, command: runtime('--exit', '3'), timeoutMs: 3000 });
    expect(same.divergences).toEqual([]);
    expect(same.notes.join('\n')).not.toMatch(/ended its input/);

    // A runtime that exits with another code, and one that only exits when its input ends.
    const other = await driveReplay({ tape: path, command: runtime('--exit', '0'), timeoutMs: 3000 });
    expect(other.divergences[0]).toMatchObject({ reason: 'mismatch', message: 'the runtime exited with 0; the recorded one exited with 3' });
    const waits = await driveReplay({ tape: path, command: runtime(), timeoutMs: 3000 });
    expect(waits.notes.join('\n')).toMatch(/replay ended its input so it can/);
    expect(waits.divergences[0]).toMatchObject({ reason: 'mismatch', fields: [{ pointer: '/code', expected: 3, actual: 0 }] });
  });
});
