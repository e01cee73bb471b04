import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arcp, BIN } from '../helpers/cli.js';


let server: ReturnType<typeof execa>;
let url = '';
beforeAll(async () => {
  server = execa(process.execPath, [BIN, 'serve', '--port', '0', '--token', 'tok=alice']);
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

describe('arcp CLI', () => {
  it.each(['serve', 'submit'])('%s --help shows examples and exit codes', async (cmd) => {
    const r = await arcp([cmd, '--help']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/EXAMPLES/);
    expect(r.stdout).toMatch(/Exit codes/);
  });

  it('serve prints a loopback ws:// URL', () => expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/));

  it('submit streams a readable job and exits 0', async () => {
    const r = await arcp(['submit', '--url', url, '--token', 'tok', '--agent', 'chatty', '--lease', '{"tool.call":["stats.*"]}']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/accepted job_/);
    expect(r.stdout).toMatch(/tool_result\s+c2 error PERMISSION_DENIED/);
    expect(r.stdout).toMatch(/result\s+\{"outliers":3/);
    expect(r.stdout).not.toMatch(/\u001b\[/);
  });

  it('colour: each guard alone (a pipe without NO_COLOR is plain; FORCE_COLOR over a pipe colours, so the pipe is what kept it plain)', async () => {
    const args = [BIN, 'submit', '--url', url, '--token', 'tok', '--agent', 'echo', '--input', '{"n":1}'];
    const env = { ...process.env };
    delete env.NO_COLOR;
    delete env.FORCE_COLOR;
    const piped = await execa(process.execPath, args, { reject: false, env, extendEnv: false });
    expect(piped.exitCode).toBe(0);
    expect(piped.stdout).not.toMatch(/\u001b\[/);
    const forced = await execa(process.execPath, args, { reject: false, env: { ...env, FORCE_COLOR: '1' }, extendEnv: false });
    expect(forced.exitCode).toBe(0);
    expect(forced.stdout).toMatch(/\u001b\[/);
  });

  it('submit --json prints one parseable message per line', async () => {
    const r = await arcp(['submit', '--url', url, '--token', 'tok', '--agent', 'progress', '--input', '{"total":3,"tickMs":1}', '--json']);
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual(['job.accepted', 'job.event', 'job.event', 'job.event', 'job.result']);
  });

  it('submit exits 1 on job.error', async () => {
    const r = await arcp(['submit', '--url', url, '--token', 'tok', '--agent', 'fail']);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/INTERNAL_ERROR/);
  });

  it.each([
    [['submit', '--token', 'tok', '--agent', 'echo', '--url', 'URL', '--input', '{bad'], /--input is not valid JSON/],
    [['submit', '--token', 'nope', '--agent', 'echo', '--url', 'URL'], /UNAUTHENTICATED/],
    [['submit', '--token', 'tok', '--agent', 'echo', '--url', 'ws://127.0.0.1:1'], /cannot reach ws:\/\/127\.0\.0\.1:1/],
    [['submit', '--token', 'tok', '--agent', 'echo', '--bogus'], /^arcp: submit has no flag --bogus; see arcp submit --help$/],
    [['serve', '--token', 'justatoken'], /--token "justatoken" is not of the form A=B/],
  ])('usage and input errors exit 2 with one line and no stack: %j', async (args, re) => {
    const r = await arcp(args.map((a) => (a === 'URL' ? url : a)));
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(re);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
