import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { colourOn } from '../../src/render/style.js';
import { notFoundLine, usageLine } from '../../src/render/usage.js';
import { join } from 'node:path';
import { CAPTURES_DIR } from '../helpers/captures.js';
import { arcp, BIN } from '../helpers/cli.js';
import { tapeDir } from '../helpers/tape.js';

const tape = tapeDir();

describe('help, typos and usage errors, the way oclif users expect', () => {
  it('arcp help record, arcp record -h and arcp record --help print the same help', async () => {
    const [a, b, c] = await Promise.all([arcp(['help', 'record']), arcp(['record', '-h']), arcp(['record', '--help'])]);
    for (const r of [a, b, c]) expect(r.exitCode, r.stderr).toBe(0);
    expect(a.stdout).toMatch(/EXAMPLES/);
    // Hard-wrapped source text is re-flowed (wrapped once), and repeatable flags show no empty default.
    expect(a.stdout).toMatch(/tape stores how many rules applied,\s+never their text; the stored command line is scrubbed\. Stop/);
    expect(a.stdout).not.toMatch(/\[default: \]/);
    expect(b.stdout).toBe(a.stdout);
    expect(c.stdout).toBe(a.stdout);
  });

  it('a typo gets the nearest command, one line, exit 2; topics are spelt with spaces', async () => {
    const typo = await arcp(['recrod']);
    expect([typo.exitCode, typo.stderr]).toEqual([2, 'arcp: "recrod" is not an arcp command; did you mean "arcp record"? (see arcp --help)']);
    const sub = await arcp(['tape', 'sho', 'X']);
    expect([sub.exitCode, sub.stderr]).toEqual([2, 'arcp: "tape sho" is not an arcp command; did you mean "arcp tape show"? (see arcp --help)']);
    expect(sub.stderr).not.toMatch(/:sho/);
  });

  it('usage errors are one clear line with a pointer to the command\'s help', async () => {
    const missing = await arcp(['replay']);
    expect([missing.exitCode, missing.stderr]).toEqual([2, 'arcp: replay needs TAPE (tape to replay); see arcp replay --help']);
    const extra = await arcp(['replay', 'a.tape', 'b.tape', '--listen']);
    expect(extra.exitCode).toBe(2);
    expect(extra.stderr).toMatch(/^arcp: unexpected argument: b\.tape \(see arcp replay --help; a command to run goes after --\)$/);
    for (const r of [missing, extra]) expect(r.stderr.split('\n')).toHaveLength(1);
  });

  it('colour: FORCE_COLOR forces it on a pipe, FORCE_COLOR=0 and a set NO_COLOR turn it off, an empty NO_COLOR does not', async () => {
    const path = tape('cancel.tape');
    expect((await arcp(['tape', 'import', join(CAPTURES_DIR, 'cancel.jsonl'), '-o', path])).exitCode).toBe(0);
    const show = (env: Record<string, string>) => execa(process.execPath, [BIN, 'tape', 'show', path], { reject: false, env: { PATH: process.env.PATH!, ...env }, extendEnv: false });
    const ANSI = /\u001b\[/;
    expect((await show({ FORCE_COLOR: '1' })).stdout).toMatch(ANSI);
    expect((await show({ FORCE_COLOR: '1', NO_COLOR: '1' })).stdout).toMatch(ANSI);
    expect((await show({ FORCE_COLOR: '0' })).stdout).not.toMatch(ANSI);
    expect((await show({ NO_COLOR: '' })).stdout).not.toMatch(ANSI); // a pipe: no colour either way
    expect(colourOn({ isTTY: true }, {})).toBe(true);
    expect(colourOn({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
    expect(colourOn({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colourOn({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
    expect(colourOn({ isTTY: true }, { FORCE_COLOR: '0' })).toBe(false);
    expect(colourOn({ isTTY: false }, {})).toBe(false);
  });

  it('renders parse errors by their shape (unit)', () => {
    class RequiredArgsError extends Error {
      args = [{ name: 'tape', description: 'tape to replay' }];
    }
    expect(usageLine(new RequiredArgsError('Missing 1 required arg'), 'replay')).toBe('arcp: replay needs TAPE (tape to replay); see arcp replay --help');
    class FailedFlagValidationError extends Error {}
    expect(usageLine(new FailedFlagValidationError('The following error occurred:\n  \u001b[2m--speed must be positive\u001b[22m\nSee more help with --help'), 'replay')).toBe('arcp: --speed must be positive; see arcp replay --help');
    expect(notFoundLine('zzzzzz', ['record', 'replay'])).toBe('arcp: "zzzzzz" is not an arcp command (see arcp --help)');
  });
});
