/**
 * Every documented flag of `arcp fork`, driven once through the CLI with its effect asserted.
 * Already driven elsewhere (not repeated here): --at, --set, --out, --json, --keep-rest,
 * --llm-upstream, --token (the flag), `-- <runtime>` in test/fork/fork-e2e.test.ts; --then with a
 * missing tape, a dead --llm-upstream in test/fork/fork-cli.test.ts. --target, --then tape:,
 * --pace fast and --timeout are covered through the API in test/fork/fork-target.test.ts; here
 * they go through the command.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { WebSocketServer } from 'ws';
import { DEMO_SCRIPT } from '../../src/llm/demo-script.js';
import { startScriptedLlm, type ScriptedLlm } from '../../src/llm/scripted-server.js';
import { DEFAULT_LLM, type LlmSettings } from '../../src/runtime/agents/assistant.js';
import { referenceAgents } from '../../src/runtime/agents/index.js';
import { chunksOf } from '../../src/tape/format.js';
import { TapeReader } from '../../src/tape/reader.js';
import { recordAssistant } from '../helpers/assistant.js';
import { inProcess } from '../helpers/in-process.js';
import { startRuntime } from '../helpers/runtime.js';
import { freePort } from '../helpers/ports.js';
import { readFrames, tapeDir } from '../helpers/tape.js';
import { oneLine } from '../helpers/errors.js';

const tape = tapeDir();
const settings: LlmSettings = { ...DEFAULT_LLM };
/** Gaps between the model's writes long enough that --pace recorded is told from --pace fast. */
const SLOW = { ...DEMO_SCRIPT, chunking: { ...DEMO_SCRIPT.chunking, gap_ms: [25, 35] as [number, number] } };
let llm: ScriptedLlm;
let rt: Awaited<ReturnType<typeof startRuntime>>;
const parent = tape('parent.tape');
const notes = tape('notes.txt');
const toReadFile = ['--set', '/tool_calls/0/function/name="read_file"', '--set', `/tool_calls/0/function/arguments=${JSON.stringify(JSON.stringify({ path: notes }))}`];

beforeAll(async () => {
  writeFileSync(notes, 'Notes: ship on Friday.');
  llm = await startScriptedLlm({ script: SLOW });
  rt = await startRuntime({ agents: referenceAgents(() => settings) });
  await recordAssistant(parent, rt.url, settings, llm.url);
});
afterAll(async () => {
  await rt.close();
  await llm.close();
});

const meta = (p: string) => {
  const r = TapeReader.open(p);
  try {
    return r.meta;
  } finally {
    r.close();
  }
};
const text = (p: string) => readFrames(p).map((f) => f.data.toString()).join('\n');
const resultFrame = (p: string) => JSON.parse(readFrames(p).find((f) => f.data.includes('"type":"job.result"'))!.data.toString());
const answerOf = (p: string) => resultFrame(p).payload.result.answer as string;
/** The time span of one LLM exchange's response body (the Nth), as the child recorded it. */
const bodySpanUs = (p: string, n: number) => {
  const frames = readFrames(p);
  const ch = frames.filter((f) => f.kind === 'http.request')[n - 1].channel;
  const times = frames.filter((f) => f.channel === ch && f.kind === 'http.response.body').flatMap((f) => chunksOf(f)).map((c) => c.mono_us);
  return times.at(-1)! - times[0];
};

describe('arcp fork: the step and the edit', () => {
  it('--show prints the step\'s document and stops (nothing written); with --json under its schema', async () => {
    const human = await inProcess(['fork', parent, '--at', 'job:1/llm:3', '--show']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/job:1\/llm:3/);
    expect(human.stdout).toContain('"name": "calculator"');
    const r = await inProcess(['fork', parent, '--at', 'job:1/llm:3', '--show', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ schema: 'arcp-fork-step/1', step: 'job:1/llm:3', role: 'llm', kind: 'llm', api: 'openai', document: { role: 'assistant', tool_calls: [{ function: { name: 'calculator', arguments: JSON.stringify({ expression: '52.5 + 4.2' }) } }], finish_reason: 'tool_calls' } });
    expect(existsSync(tape('parent.fork1.tape'))).toBe(false);
  });

  it('--patch applies an RFC 6902 file, --edit replaces the whole document; each kept in the lineage', async () => {
    writeFileSync(tape('patch.json'), JSON.stringify([{ op: 'replace', path: '/payload/result/answer', value: 'patched' }]));
    const patched = tape('patched.tape');
    const p = await inProcess(['fork', parent, '--at', 'job:1/result', '--patch', tape('patch.json'), '-o', patched]);
    expect(p.code, p.stderr).toBe(0);
    expect(answerOf(patched)).toBe('patched');
    expect(meta(patched).lineage).toMatchObject({ step: 'job:1/result', edit: { via: 'patch', ops: [{ op: 'replace', path: '/payload/result/answer', value: 'patched' }] } });

    const doc = resultFrame(parent);
    writeFileSync(tape('whole.json'), JSON.stringify({ ...doc, payload: { ...doc.payload, result: { answer: 'whole new' } } }));
    const edited = tape('edited.tape');
    const e = await inProcess(['fork', parent, '--at', 'job:1/result', '--edit', tape('whole.json'), '--out', edited]);
    expect(e.code, e.stderr).toBe(0);
    expect(resultFrame(edited).payload.result).toEqual({ answer: 'whole new' });
    expect(meta(edited).lineage!.edit).toMatchObject({ via: 'edit' });
  });

  it('without --out the child is PARENT.forkN.tape, the first free N; --note is kept in the lineage', async () => {
    const dir = tape('default-out');
    mkdirSync(dir);
    const own = join(dir, 'run.tape');
    copyFileSync(parent, own);
    for (const n of [1, 2]) {
      const r = await inProcess(['fork', own, '--at', 'job:1/result', '--set', `/payload/result/answer="fork ${n}"`, '--note', `try ${n}`]);
      expect(r.code, r.stderr).toBe(0);
      const child = join(dir, `run.fork${n}.tape`);
      expect(answerOf(child)).toBe(`fork ${n}`);
      expect(meta(child).lineage).toMatchObject({ note: `try ${n}` });
    }
  });

  it('refuses a child that exists, leaving it, naming --out in the hint; --force replaces it', async () => {
    const out = tape('exists.tape');
    writeFileSync(out, 'keep me');
    const args = ['fork', parent, '--at', 'job:1/result', '--set', '/payload/result/answer="forced"', '--out', out];
    const refused = await inProcess(args);
    expect(refused.code).toBe(2);
    // The hint names fork's own flag, not record's --tape.
    expect(oneLine(refused.stderr)).toMatch(/exists\.tape already exists \(pass another --out path, or --force to replace it\)$/);
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    const live = await inProcess(['fork', parent, '--at', 'job:1/llm:3', '--out', out, '-u', rt.url, '--token', 'tok']);
    expect(oneLine(live.stderr)).toMatch(/exists\.tape already exists \(pass another --out path, or --force to replace it\)$/);
    const nowhere = await inProcess([...args.slice(0, -1), tape('no-such-folder/x.tape')]);
    expect(oneLine(nowhere.stderr)).toMatch(/the folder .*no-such-folder does not exist \(create it first .*, or pick another --out path\)$/);
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    const forced = await inProcess([...args, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(answerOf(out)).toBe('forced');
  });

  it('--redact-pointer, --redact-header and --redact-regex redact what the child holds', async () => {
    const out = tape('redacted.tape');
    const r = await inProcess(['fork', parent, '--at', 'job:1/llm:3', '--out', out, '--redact-pointer', '/payload/input/task', '--redact-header', 'arcp-job-id', '--redact-regex', 'careful assistant']);
    expect(r.code, r.stderr).toBe(0);
    const submit = (p: string) => JSON.parse(readFrames(p).find((f) => f.data.includes('"type":"job.submit"'))!.data.toString()).payload.input.task;
    expect(submit(parent)).toMatch(/17\.50 each/);
    expect(submit(out)).toMatch(/^\[arcp-redacted:\d+\]$/);
    const [before, after] = [text(parent), text(out)];
    expect(before).toMatch(/"arcp-job-id","job_/);
    expect(after).not.toMatch(/"arcp-job-id","job_/);
    expect(after).toMatch(/"arcp-job-id","\[arcp-redacted:\d+\]"/);
    expect(before).toContain('You are a careful assistant.');
    expect(after).not.toContain('careful assistant');
    expect(after).toMatch(/You are a \[arcp-redacted:\d+\]\./);
  });

  it('a bad --pace or --llm-port is a usage error: exit 2, one line', async () => {
    const pace = await inProcess(['fork', parent, '--at', 'job:1/llm:3', '--pace', 'slow', '-u', rt.url]);
    expect(pace.code).toBe(2);
    expect(oneLine(pace.stderr)).toMatch(/--pace/);
    const port = await inProcess(['fork', parent, '--at', 'job:1/llm:3', '--llm-port', '70000', '-u', rt.url]);
    expect(port.code).toBe(2);
    expect(oneLine(port.stderr)).toMatch(/--llm-port/);
  });
});

describe('arcp fork: continuing against a running runtime (-u / --target)', () => {
  /** The runtime reads its LLM URL at each job: point it at the fork's endpoint, fixed by --llm-port. */
  async function continued(extra: string[], host = '127.0.0.1') {
    const port = await freePort();
    settings.url = `http://${host}:${port}/llm`;
    const out = tape(`cont-${port}.tape`);
    const r = await inProcess(['fork', parent, '--at', 'job:1/llm:3', ...toReadFile, '--out', out, '-u', rt.url, '--token', 'tok', '--llm-port', String(port), '--json', ...extra]);
    return { r, out, port, report: r.stdout.trim() ? JSON.parse(r.stdout.trim().split('\n').at(-1)!) : undefined };
  }

  it('--llm-port fixes the endpoint it prints as ARCP_LLM_URL; --host names its address; the run reaches it there', async () => {
    const { r, out, port, report } = await continued(['--llm-upstream', llm.url, '--pace', 'fast', '--host', 'localhost'], 'localhost');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain(`ARCP_LLM_URL=http://localhost:${port}/llm\n`);
    expect(report.continued).toMatchObject({ ok: true, llm: { parent: 2, edited: 1, live: 1 } });
    expect(answerOf(out)).toBe('The file says: Notes: ship on Friday.');
  });

  it('an --llm-port in use or a --host not of this machine is one line naming the flag, exit 2, no child written', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    onTestFinished(() => new Promise<void>((r) => busy.close(() => r())));
    const port = (busy.address() as AddressInfo).port;
    const out = tape('unbound.tape');
    const args = ['fork', parent, '--at', 'job:1/llm:3', ...toReadFile, '--out', out, '-u', rt.url, '--token', 'tok'];
    const inUse = await inProcess([...args, '--llm-port', String(port)]);
    expect(oneLine(inUse.stderr)).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the port is already in use \\(pick another --llm-port, or 0 for any free port\\)$`));
    const foreign = await inProcess([...args, '--host', '203.0.113.7']);
    expect(oneLine(foreign.stderr)).toMatch(/cannot listen on 203\.0\.113\.7:0: 203\.0\.113\.7 is not an address of this machine/);
    expect(existsSync(out)).toBe(false);
  });

  it('--then tape:OTHER answers the calls after the fork point from that tape, without the LLM', async () => {
    const first = await continued(['--llm-upstream', llm.url, '--pace', 'fast']);
    expect(first.r.code, first.r.stdout + first.r.stderr).toBe(0);
    const before = llm.requests;
    const { r, out, report } = await continued(['--then', `tape:${first.out}`, '--pace', 'fast']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(report.continued).toMatchObject({ ok: true, llm: { live: 0, tape: 1 } });
    expect(llm.requests).toBe(before);
    expect(answerOf(out)).toBe('The file says: Notes: ship on Friday.');
  });

  it('--pace recorded serves the parent\'s answers with their timing, --pace fast at once', async () => {
    const recorded = await continued(['--llm-upstream', llm.url, '--pace', 'recorded']);
    const fast = await continued(['--llm-upstream', llm.url, '--pace', 'fast']);
    expect(recorded.r.code, recorded.r.stdout).toBe(0);
    expect(fast.r.code, fast.r.stdout).toBe(0);
    const was = bodySpanUs(parent, 1);
    expect(was).toBeGreaterThan(100_000);
    expect(bodySpanUs(recorded.out, 1)).toBeGreaterThan(was * 0.8);
    expect(bodySpanUs(fast.out, 1)).toBeLessThan(was / 3);
  });

  it('the token comes from $ARCP_TOKEN when --token is not given', async () => {
    const port = await freePort();
    settings.url = `http://127.0.0.1:${port}/llm`;
    const args = ['fork', parent, '--at', 'job:1/llm:3', ...toReadFile, '-u', rt.url, '--llm-port', String(port), '--llm-upstream', llm.url, '--pace', 'fast', '--json'];
    const saved = process.env.ARCP_TOKEN;
    onTestFinished(() => {
      if (saved === undefined) delete process.env.ARCP_TOKEN;
      else process.env.ARCP_TOKEN = saved;
    });
    delete process.env.ARCP_TOKEN;
    const without = await inProcess([...args, '--out', tape('no-token.tape')]);
    expect(without.code).toBe(1);
    expect(without.stdout).toMatch(/UNAUTHENTICATED/);
    process.env.ARCP_TOKEN = 'tok';
    const withEnv = await inProcess([...args, '--out', tape('env-token.tape')]);
    expect(withEnv.code, withEnv.stdout).toBe(0);
    expect(answerOf(tape('env-token.tape'))).toBe('The file says: Notes: ship on Friday.');
  });

  it('--volatile lets a value differ before the fork point', async () => {
    const other = await startRuntime({ agents: referenceAgents(() => settings), version: '9.9.9-other' });
    onTestFinished(() => other.close());
    const port = await freePort();
    settings.url = `http://127.0.0.1:${port}/llm`;
    const args = ['fork', parent, '--at', 'job:1/llm:3', ...toReadFile, '-u', other.url, '--token', 'tok', '--llm-port', String(port), '--llm-upstream', llm.url, '--pace', 'fast'];
    const strict = await inProcess([...args, '--out', tape('vol-strict.tape')]);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toMatch(/9\.9\.9-other/);
    expect(existsSync(tape('vol-strict.tape'))).toBe(false);
    const loose = await inProcess([...args, '--out', tape('vol-loose.tape'), '--volatile', '/payload/runtime/version']);
    expect(loose.code, loose.stdout).toBe(0);
    expect(existsSync(tape('vol-loose.tape'))).toBe(true);
  });

  it('--timeout bounds the wait for the runtime\'s next frame', async () => {
    const silent = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    onTestFinished(() => new Promise<void>((r) => { for (const c of silent.clients) c.terminate(); silent.close(() => r()); }));
    await new Promise((r) => silent.once('listening', r));
    const url = `ws://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const t0 = Date.now();
    const r = await inProcess(['fork', parent, '--at', 'job:1/llm:3', ...toReadFile, '--out', tape('silent.tape'), '-u', url, '--token', 'tok', '--timeout', '1']);
    const ms = Date.now() - t0;
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/did not send session\.welcome within 1 s/);
    // The default is 10 s.
    expect(ms).toBeLessThan(6000);
  });
});
