import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ReportSchema, type ConformReport } from '../../src/conform/report.js';
import { arcp, BIN } from '../helpers/cli.js';
import { tapeDir } from '../helpers/tape.js';

vi.setConfig({ testTimeout: 90_000 });
const out = tapeDir();
let server: ReturnType<typeof execa>;
let url = '';

beforeAll(async () => {
  server = execa(process.execPath, [BIN, 'serve', '--port', '0', '--heartbeat-interval', '1', '--token', 'tok=alice', '--token', 'tok2=bob', '--token', 'aud=auditor', '--observe', 'auditor=alice']);
  url = await new Promise<string>((resolve, reject) => {
    server.stdout!.on('data', (d: Buffer) => {
      const m = /ARCP_URL=(\S+)/.exec(d.toString());
      if (m) resolve(m[1]);
    });
    server.catch(reject);
  });
});
afterAll(async () => {
  server.kill('SIGTERM');
  await server.catch(() => undefined);
});

const parse = (stdout: string): ConformReport => ReportSchema.parse(JSON.parse(stdout));
const allPass = (r: ConformReport) => r.checks.filter((c) => c.status !== 'pass' && c.status !== 'info').map((c) => `${c.status} ${c.id}: ${c.reason}`);

describe('arcp serve and the reference client pass every check', () => {
  let server1: ConformReport;

  it('`arcp conform server` against `arcp serve` (WebSocket), --strict: every check passes (MAY-only checks note what the runtime chose)', async () => {
    const r = await arcp(['conform', 'server', url, '--token', 'tok', '--token2', 'tok2', '--observer-token', 'aud', '--strict', '--json', '--tapes', out('server'), '--junit', out('server.xml'), '--markdown', out('CONFORMANCE.md')]);
    expect(r.stderr).toBe('');
    server1 = parse(r.stdout);
    expect(allPass(server1).join('\n')).toBe('');
    expect(r.exitCode).toBe(0);
    expect(server1.checks.length).toBeGreaterThan(55);
    // Info only where the spec lets the runtime choose (MAY): what it chose is noted.
    for (const c of server1.checks.filter((x) => x.status === 'info')) expect(c.findings.every((f) => f.outcome !== 'fail' && f.outcome !== 'warning'), c.id).toBe(true);
  });

  it('writes a tape per check, JUnit with a testcase per check, and a CONFORMANCE.md row per requirement', () => {
    const tapes = readdirSync(out('server')).filter((f) => f.endsWith('.tape'));
    expect(tapes).toContain('session.resume.gap-free-replay.tape');
    expect(tapes.length).toBe(server1.checks.filter((c) => c.kind === 'server').length + 1); // + the probe
    const xml = readFileSync(out('server.xml'), 'utf8');
    expect(xml).toMatch(/^<\?xml/);
    expect((xml.match(/<testcase /g) ?? []).length).toBe(server1.checks.length);
    expect(xml).toMatch(/failures="0"/);
    const md = readFileSync(out('CONFORMANCE.md'), 'utf8');
    expect(md).toMatch(/\| \*\*6\.3\/token-rotates\*\* The resume token rotates on every successful welcome\. \| 6\.3 \| MUST \| pass \| `session\/resume\/token-rotation` \(session\.resume\.token-rotation\.tape\) \|/);
    expect(md).toMatch(/\| not observable \| Revocation happens at the upstream/);
  });

  it("a check's tape opens with `arcp tape show` and replays clean with `arcp replay --target` against the runtime", async () => {
    const tape = join(out('server'), 'jobs.submit.accepted-and-result.tape');
    const show = await arcp(['tape', 'show', tape]);
    expect(show.exitCode).toBe(0);
    expect(show.stdout).toMatch(/session\.hello/);
    expect(show.stdout).toMatch(/job\.result/);
    expect(show.stdout).not.toMatch(/"tok"/);
    const replay = await arcp(['replay', tape, '--target', url, '--token', 'tok']);
    expect(replay.stdout + replay.stderr).toMatch(/clean replay/);
    expect(replay.exitCode).toBe(0);
  });

  it('`arcp conform client -- arcp conform driver` (our client), --strict: every check passes', async () => {
    const r = await arcp(['conform', 'client', '--strict', '--json', '--tapes', out('client'), '--', process.execPath, BIN, 'conform', 'driver']);
    const report = parse(r.stdout);
    expect(allPass(report).join('\n')).toBe('');
    expect(r.exitCode).toBe(0);
    expect(report.checks.some((c) => c.id === 'client/resume/after-drop' && c.status === 'pass')).toBe(true);
    expect(existsSync(join(out('client'), 'scenario.resume.tape'))).toBe(true);
  });

  it('`arcp conform client --listen` waits for a client started by hand, telling it where and what to run', async () => {
    const suite = execa(process.execPath, [BIN, 'conform', 'client', '--listen', '--only', 'client/hello/*', '--only', 'client/session/*', '--json'], { reject: false });
    const env = await new Promise<Record<string, string>>((resolve) => {
      suite.stderr!.on('data', (d: Buffer) => {
        const m = /ARCP_URL=(\S+) ARCP_TOKEN=(\S+) ARCP_CONFORMANCE_SCENARIO=(\S+)/.exec(d.toString());
        if (m) resolve({ ARCP_URL: m[1], ARCP_TOKEN: m[2], ARCP_CONFORMANCE_SCENARIO: m[3] });
      });
    });
    expect(env.ARCP_CONFORMANCE_SCENARIO).toBe('handshake');
    const driver = await execa(process.execPath, [BIN, 'conform', 'driver'], { env, reject: false });
    expect(driver.exitCode, driver.stderr).toBe(0);
    const r = await suite;
    expect(r.exitCode).toBe(0);
    expect(parse(r.stdout).checks.map((c) => `${c.id} ${c.status}`)).toEqual(['client/hello/shape pass', 'client/session/close pass']);
  });

  it('`arcp conform server -- arcp serve --stdio`: a child per connection; checks that need a second connection are skipped, saying why', async () => {
    const r = await arcp(['conform', 'server', '--token', 'tok', '--json', '--only', 'session/hello/*', '--only', 'jobs/submit/*', '--only', 'session/resume/token-rotation', '--only', 'wire/seq/*', '--', process.execPath, BIN, 'serve', '--stdio', '--token', 'tok=alice']);
    const report = parse(r.stdout);
    expect(r.exitCode, JSON.stringify(report.checks.filter((c) => c.status === 'fail'))).toBe(0);
    expect(report.checks.find((c) => c.id === 'session/resume/token-rotation')).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/second connection.*stdio/) });
    expect(report.checks.find((c) => c.id === 'jobs/submit/accepted-and-result')!.status).toBe('pass');
    expect(report.checks.find((c) => c.id === 'wire/seq/gap-free')!.status).toBe('pass');
  });
});
