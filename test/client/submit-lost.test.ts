import { execa, type ResultPromise } from 'execa';
import { describe, expect, it } from 'vitest';
import { ArcpClient } from '../../src/client/client.js';
import { record } from '../../src/record/recorder.js';
import { BIN } from '../helpers/cli.js';
import { startRuntime, until } from '../helpers/runtime.js';
import { readFrames, tapeDir } from '../helpers/tape.js';

const tape = tapeDir();
const SLOW = ['--agent', 'slow', '--input', '{"steps":60,"tickMs":50}'];

/** `arcp submit` as users run it, with its stdout lines as they come. */
function submit(args: string[]) {
  const p = execa(process.execPath, [BIN, 'submit', '--token', 'tok', ...args], { reject: false, env: { NO_COLOR: '1' } });
  const lines: string[] = [];
  p.stdout!.on('data', (d) => lines.push(...String(d).split('\n').filter(Boolean)));
  return { p, lines };
}

/** A CLI process that prints `KEY=value` when ready; resolves with the value. */
async function started(p: ResultPromise, key: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    p.stdout!.on('data', (d) => {
      out += d;
      const m = new RegExp(`${key}=(\\S+)`).exec(out);
      if (m) resolve(m[1]);
    });
    void p.then((r) => reject(new Error(`exited: ${r.stderr}`)));
  });
}

/** The run must end in one line on stderr, exit 2 (never 13, never silent). */
async function expectOneLine(p: ResultPromise, re: RegExp): Promise<void> {
  const r = await p;
  const stderr = String(r.stderr);
  expect(stderr.trim().split('\n'), stderr).toHaveLength(1);
  expect(stderr).toMatch(re);
  expect(r.exitCode).toBe(2);
}

describe('arcp submit when the connection is lost', () => {
  it.each(['SIGKILL', 'SIGTERM'] as const)('the runtime stops mid-job (%s): resume is tried, then one line, exit 2', async (signal) => {
    const serve = execa(process.execPath, [BIN, 'serve', '--token', 'tok=alice'], { reject: false });
    const url = await started(serve, 'ARCP_URL');
    const s = submit(['--url', url, ...SLOW]);
    await until(() => s.lines.length >= 3, 10_000, 'the job to be running');
    serve.kill(signal);
    await serve;
    const why = signal === 'SIGKILL' ? 'the connection dropped' : 'closed with 1001 "runtime shutting down"';
    await expectOneLine(s.p, new RegExp(`lost the connection to ws://\\S+ mid-job \\(job_\\w+\\) \\(${why}\\); resuming the session failed: .*ECONNREFUSED`));
  });

  it('a recorder in between stops: one line naming its close, exit 2', async () => {
    const rt = await startRuntime();
    const rec = execa(process.execPath, [BIN, 'record', '--upstream', rt.url, '--tape', tape('through.tape'), '-q'], { reject: false });
    const url = await started(rec, 'ARCP_URL');
    const s = submit(['--url', url, ...SLOW]);
    await until(() => s.lines.length >= 3, 10_000, 'the job to be running');
    rec.kill('SIGINT');
    await expectOneLine(s.p, /lost the connection to ws:\/\/\S+ mid-job \(job_\w+\) \(closed with 1001 "recorder stopping"\); resuming the session failed/);
    await rt.close();
  });

  it('a replay that drops the connection (--fault drop@N): resume is tried against it, then one line, exit 2', async () => {
    const rt = await startRuntime();
    const t = tape('drop.tape');
    const r = await record({ tape: t, ws: { upstream: rt.url } });
    const c = await ArcpClient.connect(r.addresses.ws!, { token: 'tok' });
    await c.submit({ agent: 'slow', input: { steps: 10, tickMs: 10 } }).done;
    await c.close();
    await r.stop();
    await rt.close();
    const firstEvent = readFrames(t).find((f) => f.dir === 's2c' && f.data.includes('"job.event"'))!.seq;
    const replay = execa(process.execPath, [BIN, 'replay', t, '--listen', '--fault', `drop@${firstEvent}`], { reject: false });
    const url = await started(replay, 'ARCP_URL');
    const s = submit(['--url', url, '--agent', 'slow', '--input', '{"steps":10,"tickMs":10}']);
    await expectOneLine(s.p, /lost the connection to ws:\/\/\S+ mid-job \(job_\w+\) \(the connection dropped\); resuming the session failed/);
    replay.kill('SIGINT');
    await replay;
  });

  it('a stdio runtime that exits mid-job: one line naming it, exit 2', async () => {
    const s = submit(['--agent', 'slow', '--input', '{"steps":400,"tickMs":50}', '--', 'timeout', '5', process.execPath, BIN, 'serve', '--stdio', '--token', 'tok=alice']);
    await until(() => s.lines.length >= 2, 10_000, 'the job to be running');
    await expectOneLine(s.p, /the runtime timeout 5 .* went away mid-job \(job_\w+\): .*\(a runtime on stdio cannot be resumed/);
  });

  it('a dropped connection the runtime can resume: the job goes on, every event once and in order, exit 0', async () => {
    const rt = await startRuntime();
    const s = submit(['--url', rt.url, '--json', ...SLOW]);
    await until(() => s.lines.length >= 5, 10_000, 'the job to be running');
    const session = [...rt.rt.sessions.values()][0];
    session.transport!.terminate!(); // the runtime's side drops the TCP connection: the client sees 1006
    const r = await s.p;
    expect(r.exitCode, r.stderr).toBe(0);
    const seqs = s.lines.map((l) => JSON.parse(l) as { type: string; event_seq?: number }).filter((m) => m.event_seq !== undefined).map((m) => m.event_seq!);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_v, i) => i + 1));
    expect(s.lines.at(-1)).toMatch(/"job\.result"/);
    await rt.close();
  });
});
