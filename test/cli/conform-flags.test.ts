/**
 * Every documented flag of `arcp conform server|client|tape|list|coverage`, driven once through
 * the CLI with its effect asserted. Already driven elsewhere (not repeated here):
 * - server: --agents, --only, --skip, --strict, --timeout, --expected-failures, --junit,
 *   --markdown, --tapes, --token, --token2, --json (test/conform/cli.test.ts); --observer-token and
 *   `-- <runtime>` over stdio (test/conform/reference.test.ts, where --strict fails a skip).
 * - client: --listen, --only, --strict, --tapes, --json, `-- <client>` (test/conform/reference.test.ts).
 * - tape: --json (test/conform/tape.test.ts), --report (test/report/variants-browser.test.ts).
 * - list: --server --json; coverage: --json (test/conform/cli.test.ts, test/cli/json-output.test.ts).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ReportSchema } from '../../src/conform/report.js';
import { CAPTURES_DIR } from '../helpers/captures.js';
import { inProcess } from '../helpers/in-process.js';
import { startRuntime } from '../helpers/runtime.js';
import { tapeDir } from '../helpers/tape.js';
import { usageLine } from '../helpers/errors.js';

const file = tapeDir();
const STRANGER = join(import.meta.dirname, '../conform/peers/stranger-client.mjs');
const report = (stdout: string) => ReportSchema.parse(JSON.parse(stdout));
const status = (stdout: string) => Object.fromEntries(report(stdout).checks.map((c) => [c.id, c.status]));
let cancel = '';
let features = '';
let lost = '';

beforeAll(async () => {
  for (const [name, capture] of [['cancel', 'cancel'], ['features', 'features'], ['lost', 'resume-midjob']]) {
    const r = await inProcess(['tape', 'import', join(CAPTURES_DIR, `${capture}.jsonl`), '--tape', file(`${name}.tape`)]);
    expect(r.code, r.stderr).toBe(0);
  }
  [cancel, features, lost] = [file('cancel.tape'), file('features.tape'), file('lost.tape')];
});

describe('conform list and coverage', () => {
  it('--client and --tape pick the checks of that suite; two of them at once is a usage error', async () => {
    const ids = async (flag: string) => (JSON.parse((await inProcess(['conform', 'list', flag, '--json'])).stdout).checks as { id: string; suites: string[] }[]);
    const client = await ids('--client');
    const tape = await ids('--tape');
    const all = JSON.parse((await inProcess(['conform', 'list', '--json'])).stdout).checks as { id: string }[];
    expect(client.map((c) => c.id)).toContain('client/hello/shape');
    expect(client.map((c) => c.id)).not.toContain('session/resume/token-rotation');
    expect(client.every((c) => c.suites.includes('client'))).toBe(true);
    expect(tape.map((c) => c.id)).toContain('wire/forms/draft');
    expect(tape.map((c) => c.id)).not.toContain('client/hello/shape');
    expect(tape.every((c) => c.suites.includes('tape'))).toBe(true);
    expect(all.length).toBeGreaterThan(Math.max(client.length, tape.length));
    const both = await inProcess(['conform', 'list', '--client', '--tape']);
    expect(usageLine(both)).toMatch(/--tape|--client/);
  });

  it('coverage prints every requirement with the share covered', async () => {
    const r = await inProcess(['conform', 'coverage']);
    expect(r.code).toBe(0);
    const cov = JSON.parse((await inProcess(['conform', 'coverage', '--json'])).stdout) as { rows: { requirement: { id: string } }[] };
    expect(cov.rows.length).toBeGreaterThan(50);
    for (const row of cov.rows) expect(r.stdout).toContain(row.requirement.id);
  });
});

describe('conform tape', () => {
  it('--subject client / both judge the client too; the runtime alone by default; a bad subject is a usage error', async () => {
    const only = ['--only', 'wire/features/within-intersection', '--json'];
    const runtime = await inProcess(['conform', 'tape', features, ...only]);
    expect(runtime.code, runtime.stdout).toBe(0);
    for (const subject of ['client', 'both']) {
      const r = await inProcess(['conform', 'tape', features, '--subject', subject, ...only]);
      expect(r.code, subject).toBe(1);
      expect(report(r.stdout).checks[0].findings.map((f) => f.message)).toContain('P: the client sent session.ack without `ack` negotiated');
    }
    expect(usageLine(await inProcess(['conform', 'tape', features, '--subject', 'server']))).toMatch(/--subject/);
  });

  it('--only and --skip pick the checks by glob', async () => {
    const r = await inProcess(['conform', 'tape', cancel, '--only', 'wire/seq/*', '--only', 'wire/jobs/*', '--skip', 'wire/jobs/*', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const ids = report(r.stdout).checks.map((c) => c.id);
    expect(ids.length).toBeGreaterThan(1);
    expect(ids.every((id) => id.startsWith('wire/seq/')), ids.join()).toBe(true);
  });

  it('--strict fails a v1.0-form warning and the skips', async () => {
    const args = ['conform', 'tape', cancel, '--only', 'wire/forms/draft', '--only', 'wire/resume/continuity', '--json'];
    const plain = await inProcess(args);
    expect(plain.code).toBe(0);
    expect(status(plain.stdout)).toEqual({ 'wire/forms/draft': 'warning', 'wire/resume/continuity': 'skipped' });
    const strict = await inProcess([...args, '--strict']);
    expect(strict.code).toBe(1);
    expect(status(strict.stdout)).toEqual({ 'wire/forms/draft': 'fail', 'wire/resume/continuity': 'fail' });
  });

  it('--expected-failures: a listed failure does not fail the run', async () => {
    const failing = report((await inProcess(['conform', 'tape', lost, '--json'])).stdout).checks.filter((c) => c.status === 'fail').map((c) => c.id);
    expect(failing.length).toBeGreaterThan(0);
    writeFileSync(file('known.txt'), `# known\n${failing.join('\n')}\n`);
    const r = await inProcess(['conform', 'tape', lost, '--expected-failures', file('known.txt'), '--json']);
    expect(r.code).toBe(0);
    expect(report(r.stdout).summary).toMatchObject({ fail: 0, expected: failing.length });
  });

  it('--junit, --markdown, --report, --records write their files; -v shows the passes\' findings', async () => {
    const [xml, md, html] = [file('tape.xml'), file('TAPE.md'), file('tape.html')];
    const plain = await inProcess(['conform', 'tape', cancel]);
    expect(plain.stdout).not.toContain('1 jobs, each ending at most once');
    expect(existsSync(file('cancel.records.json'))).toBe(false);
    const r = await inProcess(['conform', 'tape', cancel, '-v', '--junit', xml, '--markdown', md, '--report', html, '--records']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('1 jobs, each ending at most once');
    expect(readFileSync(xml, 'utf8')).toMatch(/<testcase classname="wire.jobs" name="wire\/jobs\/one-terminal"/);
    expect(readFileSync(md, 'utf8')).toMatch(/\| pass \| `wire\/jobs\/one-terminal` /);
    expect(readFileSync(html, 'utf8')).toMatch(/^<!doctype html>/i);
    expect(r.stderr).toContain(`conformance report: ${html}`);
    const records = JSON.parse(readFileSync(file('cancel.records.json'), 'utf8'));
    expect(records.records.length).toBeGreaterThan(0);
  });
});

/**
 * A TCP relay to `upstream` that counts the connections open at once. Each connection waits
 * 200 ms before it is passed on, so checks run at once are open at once however fast they are.
 */
async function countingRelay(upstream: string) {
  const { hostname, port } = new URL(upstream);
  let open = 0;
  let most = 0;
  const server: Server = createServer((a) => {
    open++;
    most = Math.max(most, open);
    a.once('close', () => open--);
    a.pause();
    const timer = setTimeout(() => {
      const b = createConnection({ host: hostname, port: Number(port) });
      const end = () => (a.destroy(), b.destroy());
      b.on('error', end).on('close', end);
      a.on('close', end);
      a.pipe(b).pipe(a);
      a.resume();
    }, 200);
    a.on('error', () => a.destroy()).once('close', () => clearTimeout(timer));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, most: () => most, reset: () => (most = 0) };
}

describe('conform server', () => {
  let rt: Awaited<ReturnType<typeof startRuntime>>;
  beforeAll(async () => {
    rt = await startRuntime();
  });
  afterAll(() => rt.close());

  it('the token comes from $ARCP_TOKEN; without either it is a usage error', async () => {
    const saved = process.env.ARCP_TOKEN;
    onTestFinished(() => {
      if (saved === undefined) delete process.env.ARCP_TOKEN;
      else process.env.ARCP_TOKEN = saved;
    });
    delete process.env.ARCP_TOKEN;
    expect(usageLine(await inProcess(['conform', 'server', rt.url, '--only', 'agents/unknown']))).toMatch(/Missing required flag token/);
    process.env.ARCP_TOKEN = 'tok';
    const r = await inProcess(['conform', 'server', rt.url, '--only', 'agents/unknown', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(status(r.stdout)).toEqual({ 'agents/unknown': 'pass' });
  });

  it('-j bounds the checks run at once', async () => {
    const relay = await countingRelay(rt.url);
    const args = ['conform', 'server', relay.url, '--token', 'tok', '--only', 'agents/*', '--only', 'envelope/*', '--json', '--tapes', file('jobs-tapes')];
    const one = await inProcess([...args, '-j', '1']);
    expect(one.code, one.stdout + one.stderr).toBe(0);
    expect(report(one.stdout).checks.length).toBeGreaterThan(3);
    expect(relay.most()).toBe(1);
    relay.reset();
    const four = await inProcess([...args, '--jobs', '4']);
    expect(four.code).toBe(0);
    expect(relay.most()).toBeGreaterThan(1);
    expect(usageLine(await inProcess(['conform', 'server', relay.url, '--token', 'tok', '-j', '0']))).toMatch(/--jobs|-j/);
  });

  it('--records writes each tape\'s records beside it; --report, -v', async () => {
    const tapes = file('server-tapes');
    const html = file('server.html');
    const r = await inProcess(['conform', 'server', rt.url, '--token', 'tok', '--only', 'jobs/submit/accepted-and-result', '--tapes', tapes, '--records', '--report', html, '-v']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(readdirSync(tapes)).toContain('jobs.submit.accepted-and-result.records.json');
    const records = JSON.parse(readFileSync(join(tapes, 'jobs.submit.accepted-and-result.records.json'), 'utf8'));
    expect(records.records.length).toBeGreaterThan(0);
    expect(r.stderr).toContain(`conformance report: ${html}`);
    expect(readFileSync(html, 'utf8')).toContain('jobs/submit/accepted-and-result');
    const quiet = await inProcess(['conform', 'server', rt.url, '--token', 'tok', '--only', 'jobs/submit/accepted-and-result', '--tapes', file('quiet-tapes')]);
    expect(readdirSync(file('quiet-tapes')).some((f) => f.endsWith('.records.json'))).toBe(false);
    // -v adds the passing check's findings under it.
    expect(r.stdout.split('\n').length).toBeGreaterThan(quiet.stdout.split('\n').length);
  });
});

describe('conform client', () => {
  /**
   * Runs the stranger client, noting the token it was given and when it ran. It waits 300 ms
   * first, so scenarios run at once overlap however fast the client is.
   */
  function wrapper(log: string) {
    const path = file(`wrap-${Math.random().toString(36).slice(2)}.mjs`);
    writeFileSync(path, `import { appendFileSync } from 'node:fs';
const t0 = Date.now();
process.on('exit', () => appendFileSync(${JSON.stringify(log)}, JSON.stringify({ token: process.env.ARCP_TOKEN, scenario: process.env.ARCP_CONFORMANCE_SCENARIO, t0, t1: Date.now() }) + '\\n'));
await new Promise((r) => setTimeout(r, 300));
await import(${JSON.stringify(STRANGER)});
`);
    return path;
  }
  const runs = (log: string) => readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { token: string; scenario: string; t0: number; t1: number });
  const overlaps = (rs: { t0: number; t1: number }[]) => rs.some((a, i) => rs.some((b, j) => i !== j && a.t0 < b.t1 && b.t0 < a.t1));
  const SCENARIOS = ['--only', 'client/hello/shape', '--only', 'client/envelope/unknown-fields', '--only', 'client/events/vendor-kinds'];

  it('--token is what the client gets as ARCP_TOKEN; -j 1 runs one scenario at a time, -j 3 several', async () => {
    const log = file('one.log');
    const one = await inProcess(['conform', 'client', ...SCENARIOS, '--token', 'my-token', '-j', '1', '--json', '--tapes', file('client-tapes-1'), '--', process.execPath, wrapper(log), 'none']);
    expect(one.code, one.stdout + one.stderr).toBe(0);
    const r1 = runs(log);
    expect(r1.map((r) => r.scenario).sort()).toEqual(['handshake', 'unknown-fields', 'vendor-kinds']);
    expect(r1.every((r) => r.token === 'my-token')).toBe(true);
    expect(overlaps(r1)).toBe(false);
    const log3 = file('three.log');
    const three = await inProcess(['conform', 'client', ...SCENARIOS, '--jobs', '3', '--json', '--tapes', file('client-tapes-3'), '--', process.execPath, wrapper(log3), 'none']);
    expect(three.code).toBe(0);
    const r3 = runs(log3);
    expect(overlaps(r3)).toBe(true);
    expect(r3.every((r) => r.token && r.token !== 'my-token')).toBe(true);
  });

  it('--timeout ends a scenario whose client never comes, failing its checks', async () => {
    const t0 = Date.now();
    const r = await inProcess(['conform', 'client', '--only', 'client/hello/shape', '--timeout', '1', '--json', '--tapes', file('hang-tapes'), '--', process.execPath, '-e', 'setInterval(() => {}, 1000)']);
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(r.code).toBe(1);
    expect(report(r.stdout).checks[0]).toMatchObject({ id: 'client/hello/shape', status: 'fail' });
  });

  it('--skip, --expected-failures, --records, --junit, --markdown, --report, -v', async () => {
    const tapes = file('client-tapes-all');
    const [xml, md, html] = [file('client.xml'), file('CLIENT.md'), file('client.html')];
    // The stranger client ends with session.bye: client/session/close is a v1.0-form warning, which --strict fails.
    writeFileSync(file('client-known.txt'), 'client/session/close\n');
    const r = await inProcess(['conform', 'client', '--only', 'client/hello/*', '--only', 'client/session/*', '--only', 'client/envelope/*', '--skip', 'client/envelope/*', '--strict', '--expected-failures', file('client-known.txt'), '--records', '--junit', xml, '--markdown', md, '--report', html, '-v', '--tapes', tapes, '--', process.execPath, STRANGER, 'none']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/✓ pass +client\/hello\/shape/);
    // Under -v a passing check shows what it judges.
    expect(r.stdout).toContain('The hello carries the bearer token and a features list');
    expect(r.stdout).not.toMatch(/client\/envelope\/unknown-fields/);
    expect(r.stdout).toMatch(/client\/session\/close.*expected/);
    expect(readdirSync(tapes)).toContain('scenario.handshake.records.json');
    expect(readFileSync(xml, 'utf8')).toMatch(/name="client\/hello\/shape"/);
    expect(readFileSync(md, 'utf8')).toMatch(/`client\/hello\/shape`/);
    expect(r.stderr).toContain(`conformance report: ${html}`);
    expect(existsSync(html)).toBe(true);
  });
});
