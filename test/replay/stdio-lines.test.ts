import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { record } from '../../src/record/recorder.js';
import { serveReplay } from '../../src/replay/serve.js';
import { until } from '../helpers/runtime.js';
import { readFrames, tapeDir } from '../helpers/tape.js';

const tape = tapeDir();

/** A child that answers each line it reads with the line, a blank line, and a line that is not JSON. */
const CHILD = `process.stdin.on('data', (d) => { for (const l of String(d).split('\\n').slice(0, -1)) process.stdout.write(l + '\\n\\nnot json\\n'); });`;

const collect = (s: PassThrough) => {
  const out: Buffer[] = [];
  s.on('data', (d: Buffer) => out.push(d));
  return () => Buffer.concat(out).toString();
};

describe('stdio lines, blank ones too, are recorded and replayed byte for byte', () => {
  it('a wrapped child writes blank lines: the tape keeps them, and replay --stdio writes the same bytes back', async () => {
    const path = tape('blank.tape');
    const input = new PassThrough();
    const output = new PassThrough();
    const recorded = collect(output);
    const rec = await record({ tape: path, stdio: { command: [process.execPath, '-e', CHILD], input, output } });
    input.write('{"n":1}\n\n');
    await until(() => recorded() === '{"n":1}\n\nnot json\n\n\nnot json\n', 5000, 'the child to answer both lines');
    input.end();
    await rec.done;
    await rec.stop();
    expect(recorded()).toBe('{"n":1}\n\nnot json\n\n\nnot json\n');
    const lines = readFrames(path).filter((f) => f.kind === 'stdio.line');
    expect(lines.map((f) => `${f.dir} ${f.data}`)).toEqual(['c2s {"n":1}', 'c2s ', 's2c {"n":1}', 's2c ', 's2c not json', 's2c ', 's2c ', 's2c not json']);

    const clientIn = new PassThrough();
    const clientOut = new PassThrough();
    const replayed = collect(clientOut);
    const served = await serveReplay({ tape: path, stdio: { input: clientIn, output: clientOut }, timeoutMs: 2000 });
    clientIn.write('{"n":1}\n\n');
    clientIn.end();
    const report = await served.done;
    expect(report.divergences).toEqual([]);
    expect(replayed()).toBe(recorded());
  });
});
