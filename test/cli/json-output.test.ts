import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { OUTPUTS, type OutputName } from '../../src/render/json/schemas.js';
import { CAPTURES_DIR } from '../helpers/captures.js';
import { inProcess } from '../helpers/in-process.js';
import { tapeDir } from '../helpers/tape.js';

const ROOT = join(import.meta.dirname, '../..');
const tape = tapeDir();
let cancel = '';

/** Every line of stdout parses under the schema it names, and names the one expected. */
function expectSchemas(stdout: string, names: OutputName[]): unknown[] {
  const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { schema: OutputName });
  expect([...new Set(lines.map((l) => l.schema))]).toEqual(names);
  return lines.map((l) => OUTPUTS[l.schema].parse(l));
}

beforeAll(async () => {
  cancel = tape('cancel.tape');
  execFileSync(process.execPath, [join(ROOT, 'bin/run.js'), 'tape', 'import', join(CAPTURES_DIR, 'cancel.jsonl'), '--tape', cancel]);
});

describe('--json outputs carry their schema and parse under it', () => {
  it.each<[string[], OutputName[]]>([
    [['tape', 'ls', 'DIR'], ['arcp-tape-ls/1']],
    [['tape', 'show', 'TAPE'], ['arcp-tape-show/1', 'arcp-tape-show-frame/1']],
    [['tape', 'show', 'TAPE', '--frame', '2'], ['arcp-tape-frame/1']],
    [['tape', 'verify', 'TAPE'], ['arcp-tape-verify/1']],
    [['tape', 'scan', 'TAPE'], ['arcp-tape-scan/1']],
    [['tape', 'tree', 'DIR'], ['arcp-tape-tree/1']],
    [['diff', 'TAPE', 'TAPE'], ['arcp-diff/1']],
    [['conform', 'list'], ['arcp-conform-list/1']],
    [['conform', 'coverage'], ['arcp-conform-coverage/1']],
  ])('arcp %j --json', async (args, names) => {
    const r = await inProcess([...args.map((a) => (a === 'TAPE' ? cancel : a === 'DIR' ? join(cancel, '..') : a)), '--json']);
    expect(r.code, r.stderr).toBe(0);
    expectSchemas(r.stdout, names);
  });

  it('tape show --json uses camelCase for its own fields and the tape format names for meta and frame rows', async () => {
    const r = await inProcess(['tape', 'show', cancel, '--json']);
    const [head, frame] = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(head.jobs[0]).toHaveProperty('jobId');
    expect(head.jobs[0]).not.toHaveProperty('job_id');
    expect(head.meta).toHaveProperty('started_at');
    expect(frame).toHaveProperty('mono_us');
  });

  it('diff --json names both tapes', async () => {
    const r = await inProcess(['diff', cancel, cancel, '--json']);
    const [d] = expectSchemas(r.stdout, ['arcp-diff/1']) as { a: string; b: string; relation: string }[];
    expect(d).toMatchObject({ a: cancel, b: cancel, relation: 'unrelated', ok: true });
  });

  it.each<[string[], string]>([
    [['tape', 'show', 'missing.tape', '--json'], 'E_INPUT'],
    [['replay', '--json'], 'E_USAGE'],
    [['tape', 'show', 'TAPE', '--bogus', '--json'], 'E_USAGE'],
  ])('under --json an error is one arcp-error/1 object on stdout, nothing on stderr: %j', async (args, code) => {
    const r = await inProcess(args.map((a) => (a === 'TAPE' ? cancel : a)));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('');
    const [e] = expectSchemas(r.stdout, ['arcp-error/1']);
    expect(e).toMatchObject({ code, exitCode: 2 });
    expect((e as { hint?: string }).hint).toBeTruthy();
  });

  it('without --json the error stays one line on stderr', async () => {
    const r = await inProcess(['tape', 'show', 'missing.tape']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('docs/schemas/ is current with the zod schemas', () => {
    execFileSync(process.execPath, [join(ROOT, 'scripts/json-schemas.mjs'), '--check'], { stdio: 'pipe' });
  });
});

describe('what the tape commands say when there is nothing to show', () => {
  it('tape ls of a folder without tapes says "no tapes"', async () => {
    const empty = join(cancel, '..', 'empty-folder');
    execFileSync('mkdir', ['-p', empty]);
    const r = await inProcess(['tape', 'ls', empty]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^no tapes in .*empty-folder/);
  });

  it('tape show with a filter that matches nothing says so; -n caps the channel table too', async () => {
    const none = await inProcess(['tape', 'show', cancel, '--grep', 'no-such-text-anywhere', '--no-steps']);
    expect(none.code).toBe(0);
    expect(none.stderr).toMatch(/no frame matches --grep no-such-text-anywhere/);
    const some = await inProcess(['tape', 'show', cancel, '--kind', 'ws.text', '--no-steps']);
    expect(some.stderr).toBe('');
    const capped = await inProcess(['tape', 'show', cancel, '-n', '0', '--no-steps']);
    expect(capped.stdout).toMatch(/… 1 more channel \(raise -n/);
  });

  it('tape export --har of a tape without HTTP says nothing was exported', async () => {
    const r = await inProcess(['tape', 'export', cancel, '--har']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/holds no HTTP exchanges; the HAR is empty \(nothing was exported\)/);
    expect(JSON.parse(r.stdout).log.entries).toEqual([]);
  });

  it('diff of two tapes names both, not a recording and a live run', async () => {
    const r = await inProcess(['diff', cancel, cancel]);
    expect(r.stdout).toMatch(/^equivalent: tape a \(.*cancel\.tape\) and tape b \(.*cancel\.tape\)/);
    expect(r.stdout).not.toMatch(/replay|recorded|live/);
  });
});
