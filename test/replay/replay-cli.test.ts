import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArcpClient } from '../../src/client/client.js';
import { StdioTransport } from '../../src/engine/transport/stdio.js';
import { spawn } from 'node:child_process';
import { record } from '../../src/record/recorder.js';
import { startRuntime } from '../helpers/runtime.js';
import { tapeDir } from '../helpers/tape.js';
import { arcp, BIN, reap } from '../helpers/cli.js';

const tape = tapeDir();
let rt: Awaited<ReturnType<typeof startRuntime>>;
let a = '';
let b = '';

async function session(c: ArcpClient, n = 1) {
  const h = c.submit({ agent: 'echo', input: { n } });
  await h.done;
  await c.close();
}

beforeAll(async () => {
  rt = await startRuntime();
  for (const [name, n] of [['a.tape', 1], ['b.tape', 2]] as const) {
    const rec = await record({ tape: tape(name), ws: { upstream: rt.url } });
    await session(await ArcpClient.connect(rec.addresses.ws!, { token: 'tok' }), n);
    await rec.stop();
  }
  [a, b] = [tape('a.tape'), tape('b.tape')];
});
afterAll(() => rt.close());

describe('arcp replay / arcp diff (CLI)', () => {
  it.each(['replay', 'diff'])('%s --help shows examples and exit codes', async (cmd) => {
    const r = await arcp([cmd, '--help']);
    expect(r.stdout).toMatch(/EXAMPLES/);
    expect(r.stdout).toMatch(/Exit codes/);
  });

  it('--listen: prints ARCP_URL, serves the client, exits 0 with a replay fingerprint equal to the tape\'s', async () => {
    const p = reap(execa(process.execPath, [BIN, 'replay', a, '--listen'], { reject: false, env: { NO_COLOR: '1' } }));
    const url = await new Promise<string>((r) => p.stdout!.on('data', (d) => /ARCP_URL=(\S+)/.test(String(d)) && r(/ARCP_URL=(\S+)/.exec(String(d))![1])));
    await session(await ArcpClient.connect(url, { token: 'tok' }));
    const r = await p;
    expect(r.exitCode).toBe(0);
    const fp = /replay fingerprint (fp1:[0-9a-f]{64}) = tape/.exec(r.stdout);
    expect(fp).not.toBeNull();
  });

  it('--stdio: a client spawns the replay in place of its runtime; the report goes to stderr', async () => {
    const child = reap(spawn(process.execPath, [BIN, 'replay', a, '--stdio', '--json'], { stdio: ['pipe', 'pipe', 'pipe'] }));
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const t = new StdioTransport(child.stdout, child.stdin, child);
    await session(await ArcpClient.connect(async () => t, { token: 'tok' }));
    t.close();
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(0);
    expect(JSON.parse(err.trim().split('\n').at(-1)!)).toMatchObject({ ok: true, mode: 'runtime' });
  });

  it('--target: exit 0 against the runtime, exit 1 with a report when the client side diverges', async () => {
    const ok = await arcp(['replay', a, '--target', rt.url, '--token', 'tok']);
    expect(ok.exitCode, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/clean replay/);
    const p = reap(execa(process.execPath, [BIN, 'replay', a, '--listen', '--timeout', '2'], { reject: false, env: { NO_COLOR: '1' } }));
    const url = await new Promise<string>((r) => p.stdout!.on('data', (d) => /ARCP_URL=(\S+)/.test(String(d)) && r(/ARCP_URL=(\S+)/.exec(String(d))![1])));
    const c = await ArcpClient.connect(url, { token: 'tok' });
    c.submit({ agent: 'echo', input: { n: 99 } });
    const r = await p;
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/DIVERGED \(mismatch\) at channel 1, seq \d+, client → runtime/);
    expect(r.stdout).toMatch(/\/payload\/input\/n\s+1\s+99\s+exact/);
    expect(r.stdout).toMatch(/> \d+\s+→ job\.submit/);
  });

  it('diff: 0 for a tape against itself, 1 naming the field for two runs that differ', async () => {
    expect((await arcp(['diff', a, a])).exitCode).toBe(0);
    const r = await arcp(['diff', a, b, '--json']);
    expect(r.exitCode).toBe(1);
    expect(JSON.parse(r.stdout).divergences[0].fields.filter((f: { tolerated: boolean }) => !f.tolerated)).toEqual([{ pointer: '/payload/input/n', expected: 1, actual: 2, rule: 'exact', tolerated: false }]);
  });

  it.each([
    [['replay', 'TAPE'], /nothing to replay to/],
    [['replay', 'TAPE', '--listen', '--fault', 'explode@3'], /--fault "explode@3" is not drop@SEQ/],
    [['replay', 'TAPE', '--listen', '--target', 'ws://127.0.0.1:1'], /replay plays one side/],
    [['replay', 'TAPE', '--http-port', '0'], /has no HTTP channels to replay/],
    [['replay', 'TAPE', '--target', 'ws://127.0.0.1:1'], /cannot reach ws:\/\/127\.0\.0\.1:1/],
    [['diff', 'TAPE', '/nonexistent.tape'], /no tape at \/nonexistent\.tape/],
  ])('usage and input errors exit 2 with one line: %j', async (args, re) => {
    const r = await arcp(args.map((x) => (x === 'TAPE' ? a : x)));
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(re);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
