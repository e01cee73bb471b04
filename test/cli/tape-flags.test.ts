import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyTape } from '../../src/tape/verify.js';
import { CAPTURES_DIR } from '../helpers/captures.js';
import { inProcess } from '../helpers/in-process.js';
import { readFrames, tapeDir } from '../helpers/tape.js';

const tape = tapeDir();
/** Two connections (A and B): channels 1 and 2. */
const SOURCE = join(CAPTURES_DIR, 'bye-midjob.jsonl');
let two = '';
beforeAll(async () => {
  two = tape('two.tape');
  const r = await inProcess(['tape', 'import', SOURCE, '--tape', two]);
  expect(r.code, r.stderr).toBe(0);
});

/** The seqs and channels `tape show --json ARGS` lists. */
async function shown(args: string[]): Promise<{ seq: number; channel: number }[]> {
  const r = await inProcess(['tape', 'show', two, '--json', '--no-steps', ...args]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim().split('\n').slice(1).map((l) => JSON.parse(l)).map(({ seq, channel }) => ({ seq, channel }));
}

describe('tape show: --channel, --from, --limit pick the timeline', () => {
  it('each alone and together, against the frames the tape holds', async () => {
    const all = readFrames(two).map(({ seq, channel }) => ({ seq, channel }));
    expect(new Set(all.map((f) => f.channel))).toEqual(new Set([1, 2]));
    expect(await shown([])).toEqual(all);
    expect(await shown(['--channel', '2'])).toEqual(all.filter((f) => f.channel === 2));
    const mid = all[Math.floor(all.length / 2)].seq;
    expect(await shown(['--from', String(mid)])).toEqual(all.filter((f) => f.seq >= mid));
    expect(await shown(['--limit', '3'])).toEqual(all.slice(0, 3));
    expect(await shown(['-c', '1', '--from', String(mid), '-n', '2'])).toEqual(all.filter((f) => f.channel === 1 && f.seq >= mid).slice(0, 2));
  });

  it('--no-steps leaves the jobs and steps out of the header', async () => {
    const head = async (args: string[]) => JSON.parse((await inProcess(['tape', 'show', two, '--json', '-n', '0', ...args])).stdout.split('\n')[0]);
    expect((await head([])).jobs.length).toBeGreaterThan(0);
    expect(await head(['--no-steps'])).not.toHaveProperty('jobs');
  });

  it('a pick that matches nothing says so on stderr', async () => {
    const r = await inProcess(['tape', 'show', two, '--no-steps', '--channel', '9']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/no frame/);
  });
});

describe('tape export -o, tape import --force and --json', () => {
  it('export -o writes what stdout would get, and refuses an existing file without --force', async () => {
    const out = tape('two.jsonl');
    const toStdout = await inProcess(['tape', 'export', two, '--jsonl']);
    expect((await inProcess(['tape', 'export', two, '--jsonl', '-o', out])).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(toStdout.stdout);
    writeFileSync(out, 'keep me');
    const refused = await inProcess(['tape', 'export', two, '--jsonl', '-o', out]);
    expect(refused.code).toBe(2);
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    expect((await inProcess(['tape', 'export', two, '--jsonl', '-o', out, '--force'])).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(toStdout.stdout);
  });

  it('export --har --polly writes the log as Polly.js does (its creator), without --polly as arcp', async () => {
    const creator = async (args: string[]) => JSON.parse((await inProcess(['tape', 'export', two, '--har', ...args])).stdout).log.creator.name;
    expect(await creator(['--polly'])).toBe('Polly.JS');
    expect(await creator([])).toBe('arcp');
  });

  it('import refuses an existing tape, --force replaces it; --json is the summary of what was written', async () => {
    const t = tape('replaced.tape');
    expect((await inProcess(['tape', 'import', join(CAPTURES_DIR, 'cancel.jsonl'), '--tape', t])).code).toBe(0);
    const before = verifyTape(t).fingerprint;
    const refused = await inProcess(['tape', 'import', SOURCE, '--tape', t]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/replaced\.tape already exists/);
    expect(verifyTape(t).fingerprint).toBe(before);
    const r = await inProcess(['tape', 'import', SOURCE, '--tape', t, '--force', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ schema: 'arcp-tape-import/1', path: t, channels: 2, sealed: true, lines: readFileSync(SOURCE, 'utf8').trim().split('\n').length });
    const v = verifyTape(t);
    expect(v.fingerprint).not.toBe(before);
    expect(summary).toMatchObject({ fingerprint: v.fingerprint, frames: v.frames });
  });
});
