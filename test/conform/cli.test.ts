import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Chalk } from 'chalk';
import { readAgentsMap } from '../../src/conform/agents-map.js';
import { coverage, listChecks } from '../../src/conform/catalog.js';
import { coverageLines, listLines } from '../../src/render/conform-list.js';
import { ReportSchema } from '../../src/conform/report.js';
import { readExpectedFailures } from '../../src/conform/results.js';
import { runServerSuite } from '../../src/conform/server/run.js';
import { stdioTarget, wsTarget } from '../../src/conform/server/target.js';
import { runTapeSuite } from '../../src/conform/tape.js';
import { describeFailure } from '../../src/render/failure.js';
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
  it('every conform command documents examples and exit codes; --help prints them', async () => {
    const mods = { server: await import('../../commands/conform/server.js'), client: await import('../../commands/conform/client.js'), tape: await import('../../commands/conform/tape.js'), list: await import('../../commands/conform/list.js'), coverage: await import('../../commands/conform/coverage.js'), driver: await import('../../commands/conform/driver.js') };
    for (const [name, mod] of Object.entries(mods)) {
      const cmd = mod.default as unknown as { examples: unknown[]; description: string; summary: string };
      expect(cmd.examples.length, name).toBeGreaterThan(0);
      expect(cmd.description, name).toMatch(/Exit codes: 0 .*2 /s);
      expect(cmd.summary.length, name).toBeGreaterThan(20);
    }
    const r = await arcp(['conform', 'server', '--help']);
    expect(r.stdout).toMatch(/EXAMPLES/);
    expect(r.stdout).toMatch(/Exit codes/);
  });

  it('list and coverage, as text and --json', async () => {
    const list = await arcp(['conform', 'list', '--server', '--json']);
    const ids = (JSON.parse(list.stdout).checks as { id: string }[]).map((c) => c.id);
    expect(ids).toContain('session/resume/token-rotation');
    expect(ids).not.toContain('client/resume/after-drop');
    const cov = JSON.parse((await arcp(['conform', 'coverage', '--json'])).stdout);
    expect(cov.share.MUST).toBe(1);
    const c = new Chalk({ level: 0 });
    expect(listLines(listChecks('client'), c).join('\n')).toMatch(/client\/seq\/gap-resume\s+SHOULD/);
    expect(coverageLines(coverage(), c).join('\n')).toMatch(/not observable .*Revocation happens at the upstream/);
  });

  it('usage and input errors exit 2 with one line naming the problem (the CLI)', async () => {
    const cases: [string[], RegExp][] = [
      [['conform', 'server', '--token', 't'], /no runtime to check/],
      [['conform', 'server', 'ws://127.0.0.1:9', '--token', 't'], /cannot reach the runtime at ws:\/\/127\.0\.0\.1:9/],
      [['conform', 'server', good, '--token', 'wrong'], /the runtime refused --token: UNAUTHENTICATED/],
      [['conform', 'client'], /no client to test/],
    ];
    for (const [args, re] of cases) oneLine(await arcp(args), 2, re);
  });

  it('every other input error is a ToolError of exit 2 whose line names the flag and what to do', async () => {
    writeFileSync(file('typo.txt'), 'jobs/timeout/max-runtim\n');
    writeFileSync(file('agents.json'), '{"echo": 3}');
    const base = { target: wsTarget(good), token: 'tok', tapes: false as const };
    const cases: [() => unknown, RegExp][] = [
      [() => wsTarget('http://127.0.0.1:9'), /not a ws:\/\/ or wss:\/\/ URL/],
      [() => runServerSuite({ ...base, token2: 'nope', only: ['agents/unknown'] }), /refused --token2: UNAUTHENTICATED/],
      [() => runServerSuite({ ...base, only: ['no/such/*'] }), /no check matches --only no\/such\/\*/],
      [() => readExpectedFailures(file('missing.txt')), /cannot read --expected-failures/],
      [() => runServerSuite({ ...base, only: ['agents/*'], expectedFailures: readExpectedFailures(file('typo.txt')) }), /expected failure "jobs\/timeout\/max-runtim" names no check/],
      [() => readAgentsMap(file('agents.json')), /--agents .* is not a map of agent names/],
      [() => runServerSuite({ ...base, target: stdioTarget(['/no/such/runtime']) }), /cannot reach the runtime at \/no\/such\/runtime: cannot start/],
      [() => runTapeSuite({ tapes: [file('none.tape')] }), /no tape at/],
    ];
    for (const [run, re] of cases) {
      let caught: unknown;
      try {
        await run();
      } catch (e) {
        caught = e;
      }
      const f = describeFailure(caught);
      expect(f.exitCode, String(re)).toBe(2);
      expect(f.line).toMatch(re);
      expect(f.line.split('\n')).toHaveLength(1);
    }
  });

  it('--agents maps profile names; an agent the runtime does not host skips its checks, naming it', async () => {
    writeFileSync(file('map.json'), '{"echo": "house-echo"}');
    const r = json((await arcp(['conform', 'server', good, '--token', 'tok', '--agents', file('map.json'), '--only', 'envelope/unknown-fields', '--only', 'agents/unknown', '--json'])).stdout);
    expect(r.checks.find((c) => c.id === 'envelope/unknown-fields')).toMatchObject({ status: 'skipped', reason: 'agent `house-echo` not hosted' });
    expect(r.checks.find((c) => c.id === 'agents/unknown')!.status).toBe('pass');
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
    const r = await arcp(['conform', 'server', good, '--token=tok', '--token2', 'tok2', '--only', 'agents/unknown', '--tapes', file('secret-tapes'), '--json']);
    const show = await arcp(['tape', 'show', `${file('secret-tapes')}/agents.unknown.tape`, '--json']);
    expect(r.exitCode).toBe(0);
    const head = JSON.parse(show.stdout.split('\n')[0]);
    expect(head.meta.command_line.join(' ')).toMatch(/--token=\[arcp-redacted\] --token2 \[arcp-redacted\]/);
    expect(show.stdout).not.toMatch(/"tok"/);
  });
});
