import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ReportSchema } from '../../src/conform/report.js';
import { arcp } from '../helpers/cli.js';
import { tapeDir } from '../helpers/tape.js';
import { BROKEN_RUNTIMES } from './peers/broken-runtimes.js';
import { StrangerRuntime } from './peers/stranger-runtime.js';
import { strangerOptions } from './helpers.js';

vi.setConfig({ testTimeout: 60_000 });
const file = tapeDir();
let faithful: StrangerRuntime;
let broken: StrangerRuntime;
let good = '';
let bad = '';

beforeAll(async () => {
  faithful = new StrangerRuntime(strangerOptions());
  good = await faithful.start();
  broken = new (BROKEN_RUNTIMES.find((b) => b.name === 'no-timeout')!.make)(strangerOptions());
  bad = await broken.start();
});
afterAll(async () => {
  await faithful.stop();
  await broken.stop();
});

const json = (stdout: string) => ReportSchema.parse(JSON.parse(stdout));
const oneLine = (r: { stderr: string; exitCode?: number }, exit: number, re: RegExp) => {
  expect(r.exitCode).toBe(exit);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(re);
};

describe('arcp conform (CLI)', () => {
  it.each(['server', 'client', 'tape', 'list', 'coverage', 'driver'])('conform %s --help shows examples and exit codes', async (cmd) => {
    const r = await arcp(['conform', cmd, '--help']);
    expect(r.stdout).toMatch(/EXAMPLES/);
    expect(r.stdout).toMatch(/Exit codes/);
  });

  it('list and coverage, as text and --json', async () => {
    const list = await arcp(['conform', 'list', '--server', '--json']);
    const ids = (JSON.parse(list.stdout) as { id: string }[]).map((c) => c.id);
    expect(ids).toContain('session/resume/token-rotation');
    expect(ids).not.toContain('client/resume/after-drop');
    expect((await arcp(['conform', 'list', '--client'])).stdout).toMatch(/client\/seq\/gap-resume\s+SHOULD/);
    const cov = JSON.parse((await arcp(['conform', 'coverage', '--json'])).stdout);
    expect(cov.share.MUST).toBe(1);
    expect((await arcp(['conform', 'coverage'])).stdout).toMatch(/not observable .*Revocation happens at the upstream/);
  });

  it('usage and input errors exit 2 with one line naming the problem', async () => {
    oneLine(await arcp(['conform', 'server', '--token', 't']), 2, /no runtime to check/);
    oneLine(await arcp(['conform', 'server', 'http://127.0.0.1:9', '--token', 't']), 2, /not a ws:\/\/ or wss:\/\/ URL/);
    oneLine(await arcp(['conform', 'server', good, '--token', 't', '--', 'arcp']), 2, /not both/);
    oneLine(await arcp(['conform', 'server', 'ws://127.0.0.1:9', '--token', 't']), 2, /cannot reach the runtime at ws:\/\/127\.0\.0\.1:9/);
    oneLine(await arcp(['conform', 'server', good, '--token', 'wrong']), 2, /the runtime refused --token: UNAUTHENTICATED/);
    oneLine(await arcp(['conform', 'server', good, '--token', 'tok', '--token2', 'nope']), 2, /refused --token2/);
    oneLine(await arcp(['conform', 'server', good, '--token', 'tok', '--only', 'no/such/*']), 2, /no check matches --only no\/such\/\*/);
    oneLine(await arcp(['conform', 'server', good, '--token', 'tok', '--expected-failures', file('missing.txt')]), 2, /cannot read --expected-failures/);
    writeFileSync(file('typo.txt'), 'jobs/timeout/max-runtim\n');
    oneLine(await arcp(['conform', 'server', good, '--token', 'tok', '--expected-failures', file('typo.txt')]), 2, /expected failure "jobs\/timeout\/max-runtim" names no check/);
    writeFileSync(file('agents.json'), '{"echo": 3}');
    oneLine(await arcp(['conform', 'server', good, '--token', 'tok', '--agents', file('agents.json')]), 2, /--agents .* is not a map of agent names/);
    oneLine(await arcp(['conform', 'server', '--token', 'tok', '--', '/no/such/runtime']), 2, /cannot reach the runtime at \/no\/such\/runtime: cannot start/);
    oneLine(await arcp(['conform', 'client']), 2, /no client to test/);
    oneLine(await arcp(['conform', 'tape']), 2, /tape/);
  });

  it('a failing check exits 1, with its reason in the summary, the JUnit failure and the CONFORMANCE.md row', async () => {
    const r = await arcp(['conform', 'server', bad, '--token', 'tok', '--only', 'jobs/timeout/*', '--only', 'jobs/cancel/*', '--junit', file('bad.xml'), '--markdown', file('BAD.md'), '--tapes', file('bad-tapes')]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/✗ fail\s+jobs\/timeout\/max-runtime/);
    expect(r.stdout).toMatch(/the job ran on past max_runtime_sec 1 without ending/);
    expect(r.stdout).toMatch(/tape .*jobs\.timeout\.max-runtime\.tape/);
    expect(r.stdout).toMatch(/not conformant: 1 passed, 1 failed/);
    const xml = readFileSync(file('bad.xml'), 'utf8');
    expect(xml).toMatch(/<testcase classname="jobs.timeout" name="jobs\/timeout\/max-runtime"[^>]*>\s*<failure type="MUST" message="the job ran on past max_runtime_sec 1 without ending"/);
    expect(readFileSync(file('BAD.md'), 'utf8')).toMatch(/\| \*\*12\/timeout\*\* `TIMEOUT`: Job exceeded `max_runtime_sec`\. \| 12 \| MUST \| fail \| `jobs\/timeout\/max-runtime` \(jobs\.timeout\.max-runtime\.tape\) \|/);
  });

  it('--expected-failures: a listed failure does not fail the run; a listed check that passes is stale and does', async () => {
    writeFileSync(file('baseline.txt'), '# known\njobs/timeout/max-runtime\n');
    const ok = await arcp(['conform', 'server', bad, '--token', 'tok', '--only', 'jobs/timeout/*', '--only', 'jobs/cancel/*', '--expected-failures', file('baseline.txt'), '--json']);
    expect(ok.exitCode).toBe(0);
    const rep = json(ok.stdout);
    expect(rep.checks.find((c) => c.id === 'jobs/timeout/max-runtime')).toMatchObject({ status: 'fail', baseline: 'expected' });
    expect(rep.summary).toMatchObject({ fail: 0, expected: 1, stale: 0 });
    writeFileSync(file('stale.txt'), 'jobs/timeout/max-runtime\njobs/cancel/*\n');
    const stale = await arcp(['conform', 'server', bad, '--token', 'tok', '--only', 'jobs/timeout/*', '--only', 'jobs/cancel/*', '--expected-failures', file('stale.txt'), '--junit', file('stale.xml')]);
    expect(stale.exitCode).toBe(1);
    expect(stale.stdout).toMatch(/jobs\/cancel\/acknowledged \(listed as expected to fail, but did not: stale\)/);
    expect(readFileSync(file('stale.xml'), 'utf8')).toMatch(/type="stale-expected-failure"/);
  });

  it('--only / --skip take globs', async () => {
    const r = json((await arcp(['conform', 'server', good, '--token', 'tok', '--only', 'agents/*', '--skip', 'agents/versions/p*', '--json'])).stdout);
    expect(r.checks.map((c) => c.id).sort()).toEqual(['agents/unknown', 'agents/versions/bare-name-default', 'agents/versions/unavailable']);
  });

  it('--strict fails the warnings that name a form the draft does not use, and the skips', async () => {
    const args = ['conform', 'server', good, '--token', 'tok', '--only', 'session/close/acknowledged', '--only', 'credentials/submitter-only'];
    const plain = await arcp([...args, '--json']);
    expect(plain.exitCode).toBe(0);
    const p = json(plain.stdout);
    expect(p.checks.find((c) => c.id === 'session/close/acknowledged')!.status).toBe('warning');
    expect(p.checks.find((c) => c.id === 'credentials/submitter-only')).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/--observer-token/) });
    const strict = await arcp([...args, '--strict', '--json']);
    expect(strict.exitCode).toBe(1);
    const s = json(strict.stdout);
    expect(s.checks.find((c) => c.id === 'session/close/acknowledged')).toMatchObject({ status: 'fail', raw: 'warning', reason: expect.stringMatching(/^--strict fails deviations from the draft: v1\.0 form: session\.close was refused/) });
    expect(s.checks.find((c) => c.id === 'credentials/submitter-only')).toMatchObject({ status: 'fail', reason: expect.stringMatching(/^skipped, which --strict fails/) });
  });

  it('--timeout skips a check that needs longer, saying so, and fails one that overruns it', async () => {
    const r = json((await arcp(['conform', 'server', good, '--token', 'tok', '--only', 'jobs/timeout/*', '--only', 'session/resume/job-continues', '--timeout', '1', '--json'])).stdout);
    expect(r.checks.find((c) => c.id === 'jobs/timeout/max-runtime')).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/needs about 3 s .* more than --timeout 1 s \(raise --timeout\)/) });
    expect(r.checks.find((c) => c.id === 'session/resume/job-continues')).toMatchObject({ status: 'fail', reason: expect.stringMatching(/did not finish within --timeout 1 s/) });
  });

  it('secrets stay out of the tapes: the command line keeps no token', async () => {
    const r = await arcp(['conform', 'server', good, '--token=tok', '--only', 'agents/unknown', '--tapes', file('secret-tapes'), '--json']);
    const show = await arcp(['tape', 'show', `${file('secret-tapes')}/agents.unknown.tape`, '--json']);
    expect(r.exitCode).toBe(0);
    const head = JSON.parse(show.stdout.split('\n')[0]);
    expect(head.meta.command_line.join(' ')).toMatch(/--token=\[redacted\]/);
    expect(show.stdout).not.toMatch(/"tok"/);
  });
});
