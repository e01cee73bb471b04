import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ArcpClient } from '../../src/client/client.js';
import { record } from '../../src/record/recorder.js';
import type { ReplayReport } from '../../src/replay/report.js';
import { exportJsonl } from '../../src/tape/interchange/export-jsonl.js';
import { importJsonl } from '../../src/tape/interchange/import-jsonl.js';
import { inProcess, start } from '../helpers/in-process.js';
import { startLlmUpstream, type LlmUpstream } from '../helpers/llm-upstream.js';
import { playRecordedClient } from '../helpers/recorded-client.js';
import { startRuntime, until } from '../helpers/runtime.js';
import { readFrames, tapeDir } from '../helpers/tape.js';

const tape = tapeDir();
let rt: Awaited<ReturnType<typeof startRuntime>>;
let a = '';
let b = '';
/** a.tape with 20 s added before the runtime's job.result. */
let gap = '';
/** A session whose client dropped after its result. */
let cut = '';
/** The recorded LLM (the tape's upstream) and another one. */
let llm: LlmUpstream;
let other: LlmUpstream;
/** One chat completion through /openai, asked by user "u1". */
let chat = '';
const ASK = (user: string, content = 'A') => JSON.stringify({ model: 'm', user, messages: [{ role: 'user', content }] });
const GAP_MS = 20_000;

/** One echo job; over when the job is done and closed, or when the other side closes first (a replay that diverged). */
async function session(url: string, n: number) {
  const c = await ArcpClient.connect(url, { token: 'tok' });
  const lost = new Promise((r) => c.once('close', r));
  await Promise.race([c.submit({ agent: 'echo', input: { n } }).done.then(() => c.close()), lost]);
}

beforeAll(async () => {
  rt = await startRuntime();
  for (const [name, n] of [['a.tape', 1], ['b.tape', 2]] as const) {
    const rec = await record({ tape: tape(name), ws: { upstream: rt.url } });
    await session(rec.addresses.ws!, n);
    await rec.stop();
  }
  [a, b] = [tape('a.tape'), tape('b.tape')];
  let shift = 0;
  const lines = [...exportJsonl(a)].map((l) => {
    const x = JSON.parse(l);
    if (x.raw?.includes('"job.result"')) shift = GAP_MS;
    return JSON.stringify({ ...x, mono_ms: x.mono_ms + shift, ts: new Date(Date.parse(x.ts) + shift).toISOString() });
  });
  writeFileSync(tape('gap.jsonl'), lines.join('\n') + '\n');
  gap = tape('gap.tape');
  await importJsonl({ source: tape('gap.jsonl'), tape: gap });

  // A client that got its result and dropped: the recording ends with its transport's close, no session.close.
  cut = tape('cut.tape');
  const rec = await record({ tape: cut, ws: { upstream: rt.url } });
  const ws = new WebSocket(rec.addresses.ws!);
  await new Promise((r) => ws.once('open', r));
  const done = new Promise((r) => ws.on('message', (d) => String(d).includes('"job.result"') && r(undefined)));
  ws.send(JSON.stringify({ arcp: '1.1', id: 'm1', type: 'session.hello', payload: { client: { name: 't', version: '1' }, auth: { scheme: 'bearer', token: 'tok' }, capabilities: { encodings: ['json'] } } }));
  ws.send(JSON.stringify({ arcp: '1.1', id: 'm2', type: 'job.submit', payload: { agent: 'echo', input: { n: 1 } } }));
  await done;
  ws.terminate();
  await until(() => readFrames(cut).some((f) => f.kind === 'ws.close'), 5000, 'the drop to be recorded');
  await rec.stop();

  [llm, other] = await Promise.all([startLlmUpstream(), startLlmUpstream()]);
  chat = tape('chat.tape');
  const recHttp = await record({ tape: chat, http: { routes: [{ prefix: '/openai', upstream: `${llm.url}/v1` }] } });
  await (await fetch(`${recHttp.addresses.http}/openai/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: ASK('u1') })).text();
  await recHttp.stop();
});
afterAll(async () => {
  await rt.close();
  await llm.close();
  await other.close();
});

const reportOf = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as ReplayReport;

/** `arcp replay TAPE --listen --json ARGS` in this process, with `client` run against the URL it prints. */
async function served(path: string, args: string[], client: (url: string) => Promise<unknown>) {
  const run = start(['replay', path, '--listen', '--json', ...args]);
  await until(() => run.stdout().includes('\n') || run.stderr() !== '', 5000, 'the replay to print where it listens');
  const { ws } = JSON.parse(run.stdout().split('\n')[0]) as { ws: string };
  const ran = client(ws);
  const r = await run.done;
  await ran;
  return { ...r, ws, report: reportOf(r.stdout) };
}

describe('arcp replay: each flag does what --help says', () => {
  it('--volatile: a value the pointer names may differ', async () => {
    const r = await served(a, ['--volatile', '/payload/input/n'], (url) => session(url, 99));
    expect(r.code, r.stdout).toBe(0);
    expect(r.report.ok).toBe(true);
    const strict = await served(a, [], (url) => session(url, 99));
    expect(strict.code).toBe(1);
    expect(strict.report.divergences[0].fields).toContainEqual(expect.objectContaining({ pointer: '/payload/input/n', rule: 'exact', tolerated: false }));
  });

  it('--no-preset: ids and timestamps must match too; --continue collects every divergence', async () => {
    const preset = await inProcess(['replay', a, '--target', rt.url, '--token', 'tok', '--json']);
    expect(preset.code, preset.stdout).toBe(0);
    const one = await inProcess(['replay', a, '--target', rt.url, '--token', 'tok', '--json', '--no-preset']);
    expect(one.code).toBe(1);
    const first = reportOf(one.stdout).divergences;
    expect(first).toHaveLength(1);
    expect(first[0].fields.filter((f) => !f.tolerated).map((f) => f.pointer)).toContain('/id');
    const all = await inProcess(['replay', a, '--target', rt.url, '--token', 'tok', '--json', '--no-preset', '--continue', '--timeout', '1']);
    expect(all.code).toBe(1);
    expect(reportOf(all.stdout).divergences.length).toBeGreaterThan(2);
  });

  it('--pace recorded keeps the recorded gap, divided by --speed; the default plays without it', async () => {
    const frames = readFrames(gap);
    const timed = async (args: string[]) => {
      const t0 = performance.now();
      const r = await served(gap, args, (url) => playRecordedClient(url, frames, { timeoutMs: GAP_MS }));
      expect(r.code, r.stdout).toBe(0);
      return performance.now() - t0;
    };
    // Lower bounds hold however loaded the machine is; a 20 s gap unscaled would be far over either.
    const scaled = await timed(['--pace', 'recorded', '--speed', '40']);
    expect(scaled).toBeGreaterThan((GAP_MS / 40) * 0.9);
    expect(scaled).toBeLessThan(GAP_MS / 2);
    expect(await timed([])).toBeLessThan(GAP_MS / 2);
  });

  it('--port: listens on the port given', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const r = await served(a, ['--port', String(port)], (url) => session(url, 1));
    expect(r.ws).toBe(`ws://127.0.0.1:${port}`);
    expect(r.code, r.stdout).toBe(0);
  });

  describe('what a client under test gets wrong is named by its reason', () => {
    const frames = () => readFrames(a).filter((f) => f.kind === 'ws.text');
    /** A raw client: the recorded hello, then `then` once the welcome is in. */
    const raw = (then: (ws: WebSocket) => void) => async (url: string) => {
      const ws = new WebSocket(url);
      await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
      ws.once('message', () => then(ws));
      ws.send(String(frames()[0].data));
      await new Promise((r) => ws.once('close', r));
    };

    it('extra: the client sends where the recording has none', async () => {
      const [hello, submit] = readFrames(cut).filter((f) => f.kind === 'ws.text' && f.dir === 'c2s');
      const r = await served(cut, [], async (url) => {
        const ws = new WebSocket(url);
        await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
        ws.on('message', (d) => {
          const type = JSON.parse(String(d)).type as string;
          if (type === 'job.result') ws.send('{"arcp":"1.1","id":"m3","type":"session.close","payload":{}}');
        });
        ws.send(String(hello.data));
        ws.send(String(submit.data)); // as recorded: before the welcome
        await new Promise((r) => ws.once('close', r));
      });
      expect(r.code).toBe(1);
      expect(r.report.divergences[0]).toMatchObject({ reason: 'extra', message: expect.stringMatching(/the client sent a frame where the recording has/) });
    });

    it('closed: the client closes before the recording ends', async () => {
      const r = await served(a, [], raw((ws) => ws.close(1000)));
      expect(r.code).toBe(1);
      expect(r.report.divergences[0]).toMatchObject({ reason: 'closed', message: expect.stringMatching(/the client closed the connection; the recording goes on with/) });
    });

    it('missing: the client sends nothing within --timeout', async () => {
      let held: WebSocket | undefined;
      const r = await served(a, ['--timeout', '1'], raw((ws) => (held = ws)));
      held?.terminate();
      expect(r.code).toBe(1);
      expect(r.report.divergences[0]).toMatchObject({ reason: 'missing', message: expect.stringMatching(/the client sent nothing for 1 s; the recording has .*job\.submit/) });
    });
  });
});

describe('arcp replay --http-port: the HTTP flags', () => {
  const exchanges = (path: string) => readFrames(path).filter((f) => f.kind === 'http.request').length;
  /** The program under test: asks each body in turn; exits 1 unless all were answered 200 (arcp exits with its code). */
  const asking = (...bodies: string[]) => [
    '--', process.execPath, '--input-type=module', '-e',
    `let bad = 0; for (const body of ${JSON.stringify(bodies)}) { const r = await fetch(process.env.ARCP_HTTP_URL + '/openai/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body }); await r.text(); bad += r.status !== 200; } process.exit(bad ? 1 : 0);`,
  ];

  it('--http-reuse answers a recorded exchange again; --http-match PREFIX:volatile=/user lets that field differ', async () => {
    const r = await inProcess(['replay', chat, '--http-port', '0', '--json', '--http-reuse', '--http-match', '/openai:volatile=/user', ...asking(ASK('u2'), ASK('u3'))]);
    expect(r.code, r.stdout).toBe(0);
    expect(reportOf(r.stdout).notes).toContain('HTTP channel 1 served again (--http-reuse)');
    // Each alone is not enough: the second ask finds its exchange used, or the user differs.
    const noReuse = await inProcess(['replay', chat, '--http-port', '0', '--json', '--http-match', '/openai:volatile=/user', ...asking(ASK('u2'), ASK('u3'))]);
    expect(noReuse.code).toBe(1);
    const noMatch = await inProcess(['replay', chat, '--http-port', '0', '--json', '--http-reuse', ...asking(ASK('u2'))]);
    expect(reportOf(noMatch.stdout).divergences[0]).toMatchObject({ reason: 'unmatched-request' });
  });

  it('--http-mode passthrough forwards what the tape lacks to --http-upstream and records nothing; record-if-missing appends it', async () => {
    const before = { llm: llm.requests.length, other: other.requests.length, exchanges: exchanges(chat) };
    const pass = await inProcess(['replay', chat, '--http-port', '0', '--json', '--http-mode', 'passthrough', '--http-upstream', `/openai=${other.url}/v1`, ...asking(ASK('u1'), ASK('u1', 'not recorded'))]);
    expect(pass.code, pass.stdout).toBe(0);
    expect(other.requests.length).toBe(before.other + 1);
    expect(other.requests.at(-1)!.body).toContain('not recorded');
    expect(llm.requests.length).toBe(before.llm);
    expect(exchanges(chat)).toBe(before.exchanges);
    const copy = tape('chat-copy.tape');
    writeFileSync(copy, readFileSync(chat));
    const more = await inProcess(['replay', copy, '--http-port', '0', '--json', '--http-mode', 'record-if-missing', ...asking(ASK('u1'), ASK('u1', 'new episode'))]);
    expect(more.code, more.stdout).toBe(0);
    expect(llm.requests.length).toBe(before.llm + 1);
    expect(exchanges(copy)).toBe(before.exchanges + 1);
  });
});

describe('arcp diff: --volatile, --no-preset, --continue', () => {
  it('--volatile tolerates the field that differs; --no-preset makes ids and times count; --continue finds more than the first', async () => {
    const plain = await inProcess(['diff', a, b, '--json']);
    expect(plain.code).toBe(1);
    expect(JSON.parse(plain.stdout).divergences).toHaveLength(1);
    const volatile = await inProcess(['diff', a, b, '--json', '--volatile', '/payload/input/n', '--volatile', '/payload/result/echoed/n']);
    expect(volatile.code, volatile.stdout).toBe(0);
    const all = await inProcess(['diff', a, b, '--json', '--continue']);
    expect(JSON.parse(all.stdout).divergences.map((d: { fields: { pointer: string; tolerated: boolean }[] }) => d.fields.filter((f) => !f.tolerated).map((f) => f.pointer))).toEqual([['/payload/input/n'], ['/payload/result/echoed/n']]);
    const exact = await inProcess(['diff', a, a, '--json', '--no-preset']);
    expect(exact.code, 'a tape against itself is equal even without the preset').toBe(0);
    const noPreset = await inProcess(['diff', a, b, '--json', '--no-preset', '--volatile', '/payload/input/n', '--volatile', '/payload/result/echoed/n']);
    expect(noPreset.code).toBe(1);
    expect(JSON.parse(noPreset.stdout).divergences[0].fields.filter((f: { tolerated: boolean }) => !f.tolerated).map((f: { pointer: string }) => f.pointer)).toContain('/id');
  });
});
