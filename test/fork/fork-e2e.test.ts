import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SCRIPT } from '../../src/llm/demo-script.js';
import { startScriptedLlm, type ScriptedLlm } from '../../src/llm/scripted-server.js';
import { chunksOf, RequestHead } from '../../src/tape/format.js';
import { TapeReader } from '../../src/tape/reader.js';
import { verifyTape } from '../../src/tape/verify.js';
import { arcp, BIN } from '../helpers/cli.js';
import { readFrames } from '../helpers/tape.js';
import { oneLine } from '../helpers/errors.js';

/**
 * The scenario over real sockets and real processes: the assistant (in `arcp serve
 * --stdio`) against the scripted LLM server, recorded through `arcp record`; forked at the third
 * model answer so the model calls another tool; continued live against a real runtime child.
 */
const dir = mkdtempSync(join(tmpdir(), 'arcp-fork-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const notes = join(dir, 'notes.txt');
const NOTE = 'Remember: the discount code is SAVE10.';
const TASK = 'What is the total for 3 items at 17.50 each plus 8% tax?';
const LEASE = JSON.stringify({ 'tool.call': ['calculator'], 'fs.read': [`${dir}/**`] });
const serve = [process.execPath, BIN, 'serve', '--stdio', '--token', 'tok=alice'];
const parent = join(dir, 'run.tape');
const child = join(dir, 'what-if.tape');
const grandchild = join(dir, 'what-if-again.tape');
const toReadFile = ['--set', '/tool_calls/0/function/name="read_file"', '--set', `/tool_calls/0/function/arguments=${JSON.stringify(JSON.stringify({ path: notes }))}`];
let llm: ScriptedLlm;

beforeAll(async () => {
  writeFileSync(notes, NOTE);
  llm = await startScriptedLlm({ script: DEMO_SCRIPT });
});
afterAll(() => llm.close());

const submitArgs = (input: unknown = { task: TASK }) => ['submit', '--json', '--token', 'tok', '--agent', 'assistant', '--input', JSON.stringify(input), '--lease', LEASE];
const resultOf = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as { type: string; payload: { result?: { answer?: string } } };
const meta = (p: string) => {
  const r = TapeReader.open(p);
  try {
    return r.meta;
  } finally {
    r.close();
  }
};
/** The ARCP job events in a tape, in order. */
const events = (p: string) =>
  readFrames(p)
    .filter((f) => f.kind === 'stdio.line' && f.dir === 's2c' && f.data.includes('"job.event"'))
    .map((f) => (JSON.parse(f.data.toString()) as { payload: { kind: string; body: Record<string, unknown> } }).payload);
const answer = (p: string) => {
  const f = readFrames(p).find((x) => x.kind === 'stdio.line' && x.data.includes('"type":"job.result"'));
  return (JSON.parse(f!.data.toString()) as { payload: { result: { answer: string } } }).payload.result.answer;
};
/** An exchange's response body chunks (bytes and times), by the order of the LLM calls. */
const llmChunks = (p: string, n: number) => {
  const frames = readFrames(p);
  const channel = frames.filter((f) => f.kind === 'http.request')[n - 1].channel;
  return frames.filter((f) => f.channel === channel && f.kind === 'http.response.body').flatMap((f) => chunksOf(f));
};

describe('arcp fork, end to end (real runtime children, real sockets)', () => {
  it('records the assistant: every LLM call linked to its job, with addresses to fork at', async () => {
    const r = await execa(process.execPath, [BIN, ...submitArgs(), '--', process.execPath, BIN, 'record', '--tape', parent, '--http', `/llm=${llm.url}`, '--', ...serve], { reject: false, env: { NO_COLOR: '1' } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(resultOf(r.stdout).payload.result?.answer).toBe('The total is 56.7.');
    const show = await arcp(['tape', 'show', parent, '--json']);
    const [head, ...rows] = show.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(head.jobs).toEqual([expect.objectContaining({ address: 'job:1', agent: 'assistant', status: 'success', exchanges: expect.arrayContaining([expect.objectContaining({ linkedBy: 'job-id header' })]) })]);
    expect(head.steps.map((s: { address: string }) => s.address)).toEqual(expect.arrayContaining(['submit:1', 'job:1/llm:1', 'job:1/llm:3', 'job:1/event:8', 'job:1/result']));
    const requests = rows.filter((x: { kind: string }) => x.kind === 'http.request');
    expect(requests).toHaveLength(4);
    for (const row of requests) expect(row.job).toMatchObject({ n: 1, jobId: head.jobs[0].jobId, linkedBy: 'job-id header' });
    expect((await arcp(['tape', 'show', parent])).stdout).toMatch(/job:1\/llm:3 +seq \d+ +POST \/llm\/chat\/completions → 200/);
  });

  it('forks at the third model answer so the model calls another tool, continues live, records the new tail', async () => {
    const before = llm.requests;
    const r = await arcp(['fork', parent, '--at', 'job:1/llm:3', ...toReadFile, '--out', child, '--llm-upstream', llm.url, '--token', 'tok', '--json', '--', ...serve]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(out.continued).toMatchObject({ ok: true, llm: { parent: 2, edited: 1, live: 1, tape: 0, refused: 0 }, jobs: [{ n: 1, status: 'success' }] });
    // Steps 1–2 were not paid for again: only the call after the fork point reached the LLM.
    expect(llm.requests - before).toBe(1);
    // What the live runtime did with the edited answer: it ran the other tool, and answered from it.
    const ev = events(child);
    expect(ev.map((e) => e.kind)).toEqual(['thought', 'tool_call', 'tool_result', 'thought', 'tool_call', 'tool_result', 'thought', 'tool_call', 'tool_result']);
    expect(ev[7].body).toMatchObject({ tool: 'read_file', args: { path: notes } });
    expect(ev[8].body).toMatchObject({ result: { content: NOTE } });
    expect(answer(child)).toBe(`The file says: ${NOTE}`);
    expect(answer(parent)).toBe('The total is 56.7.');
    // The call after the fork point, as the LLM received it, carries the file's content.
    const bodies = readFrames(child).filter((f) => f.kind === 'http.request.body').map((f) => f.data.toString());
    expect(bodies).toHaveLength(4);
    expect(bodies[3]).toContain(JSON.stringify(NOTE).slice(1, -1));
    // The edited answer was streamed like the recorded one: as many chunks, as many SSE events.
    const [p3, c3] = [llmChunks(parent, 3), llmChunks(child, 3)];
    expect(c3.length).toBe(p3.length);
    const count = (cs: { data: Buffer }[]) => Buffer.concat(cs.map((c) => c.data)).toString().split('\n\n').length;
    expect(count(c3)).toBe(count(p3));
    expect(Buffer.concat(c3.map((c) => c.data)).toString()).toContain('read_file');
    // The lineage, and a sealed tape.
    expect(meta(child).lineage).toMatchObject({ parent, parent_fingerprint: meta(parent).fingerprint, step: 'job:1/llm:3', step_role: 'llm', edit: { via: 'set', ops: [{ op: 'replace', path: '/tool_calls/0/function/name', value: 'read_file' }, { op: 'replace', path: '/tool_calls/0/function/arguments' }] }, command: expect.arrayContaining(['fork', '--at', 'job:1/llm:3']), continued: { runtime: [...serve.slice(0, -1), '[arcp-redacted]'].join(' '), llm: llm.url } });
    expect(verifyTape(child)).toMatchObject({ ok: true, unsealed: false });
  });

  it('diff reports the fork point first, then the first divergence after it and what changed', async () => {
    const r = await arcp(['diff', parent, child, '--json']);
    expect(r.exitCode).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ schema: 'arcp-diff/1', a: parent, b: child, relation: 'fork', ok: false });
    const d = out.fork;
    expect(d.fork).toMatchObject({ step: 'job:1/llm:3', parentSeq: meta(child).lineage!.at_seq });
    expect(d.beforeFork).toEqual([]);
    expect(d.firstDivergence).toMatchObject({ address: 'job:1/event:8', reason: 'changed', fields: expect.arrayContaining([expect.objectContaining({ pointer: '/payload/body/tool', expected: 'calculator', actual: 'read_file' })]) });
    expect(d.summary.toolCalls[0].child[2]).toMatch(/^read_file/);
    expect(d.summary.results[0]).toMatchObject({ parent: { status: 'success', result: { answer: 'The total is 56.7.' } }, child: { status: 'success', result: { answer: `The file says: ${NOTE}` } } });
    const human = await arcp(['diff', parent, child]);
    expect(human.stdout.indexOf('fork point')).toBe(0);
    expect(human.stdout).toMatch(/first divergence after it\n {2}job:1\/event:8 differs/);
    // Either order: the fork is found from the child's lineage.
    expect(JSON.parse((await arcp(['diff', child, parent, '--json'])).stdout)).toMatchObject({ a: child, b: parent, fork: { reversed: true, fork: { step: 'job:1/llm:3' } } });
  });

  it('replays the child cleanly, to a client and as the client against a live runtime', async () => {
    const urlOf = (p: ReturnType<typeof execa>, name: string) =>
      new Promise<string>((resolve, reject) => {
        p.stdout!.on('data', (d) => {
          const m = new RegExp(`${name}=(\\S+)`).exec(String(d));
          if (m) resolve(m[1]);
        });
        void p.then((r) => reject(new Error(`arcp replay exited: ${r.stderr}`)));
      });
    const rep = execa(process.execPath, [BIN, 'replay', child, '--listen'], { reject: false, env: { NO_COLOR: '1' } });
    const s = await arcp([...submitArgs(), '--url', await urlOf(rep, 'ARCP_URL')]);
    expect(resultOf(s.stdout).payload.result?.answer, s.stdout + s.stderr).toBe(`The file says: ${NOTE}`);
    expect((await rep).stdout).toMatch(/clean replay of .*what-if\.tape/);
    // As the client: the live runtime's LLM calls are answered from the child's own recording.
    const http = execa(process.execPath, [BIN, 'replay', child, '--http-port', '0'], { reject: false, env: { NO_COLOR: '1' } });
    const httpUrl = await urlOf(http, 'ARCP_HTTP_URL');
    const driven = await execa(process.execPath, [BIN, 'replay', child, '--json', '--', ...serve], { reject: false, env: { ARCP_LLM_URL: `${httpUrl}/llm`, ARCP_TOKEN: 'tok' } });
    expect(JSON.parse(driven.stdout.trim().split('\n').at(-1)!), driven.stdout).toMatchObject({ ok: true, divergences: [] });
    expect((await http).stdout).toMatch(/clean replay of .*: (\d+)\/\d+ frames/);
  });

  it('forks the fork, and tape tree shows the family with fork points, edits and outcomes', async () => {
    const r = await arcp(['fork', child, '--at', 'job:1/llm:4', '--set', '/content="Changed my mind: no file today."', '--out', grandchild, '--token', 'tok', '--', ...serve]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(answer(grandchild)).toBe('Changed my mind: no file today.');
    expect(meta(grandchild).lineage).toMatchObject({ parent: child, parent_fingerprint: meta(child).fingerprint, step: 'job:1/llm:4' });
    const tree = JSON.parse((await arcp(['tape', 'tree', dir, '--json'])).stdout);
    const root = tree.roots.find((n: { path: string }) => n.path === parent);
    expect(root.outcome).toEqual([{ job: 1, status: 'success', result: 'The total is 56.7.' }]);
    const kid = root.children.find((n: { path: string }) => n.path === child);
    expect(kid).toMatchObject({ lineage: { step: 'job:1/llm:3' }, outcome: [{ status: 'success', result: expect.stringContaining('The file says') }] });
    expect(kid.children).toEqual([expect.objectContaining({ path: grandchild, lineage: expect.objectContaining({ step: 'job:1/llm:4' }), outcome: [expect.objectContaining({ result: 'Changed my mind: no file today.' })] })]);
    const human = (await arcp(['tape', 'tree', dir])).stdout;
    expect(human).toMatch(/run\.tape[\s\S]*[├└]─ what-if\.tape .*at job:1\/llm:3[\s\S]*└─ what-if-again\.tape .*at job:1\/llm:4/);
  });

  it('negative control: a runtime that behaves differently before the fork point is reported, and nothing is written', async () => {
    const other = join(dir, 'never.tape');
    // It asks the LLM for another model: its first call is not the recorded one.
    const a = await arcp(['fork', parent, '--at', 'job:1/llm:3', ...toReadFile, '--out', other, '--llm-upstream', llm.url, '--token', 'tok', '--', ...serve, '--llm-model', 'another-model']);
    expect(a.exitCode).toBe(1);
    expect(a.stdout).toMatch(/before the fork point the runtime made a call the parent does not have: POST \/llm\/chat\/completions; closest is POST \/llm\/chat\/completions/);
    expect(a.stdout).toMatch(/\/model +"gpt-4o-mini" +"another-model"/);
    expect(existsSync(other)).toBe(false);
    // It drops its first thought event: the replay of the prefix names the frame.
    const b = await arcp(['fork', parent, '--at', 'job:1/llm:3', ...toReadFile, '--out', other, '--llm-upstream', llm.url, '--token', 'tok', '--', process.execPath, join(import.meta.dirname, '../peers/drop-first-thought.mjs'), ...serve]);
    expect(b.exitCode).toBe(1);
    expect(b.stdout).toMatch(/DIVERGED \(mismatch\) at channel 1, seq \d+, runtime → client: the runtime's job\.event differs/);
    expect(b.stdout).toMatch(/\/payload\/kind +"thought" +"tool_call"/);
    expect(b.stdout).toMatch(/did not behave as recorded before the fork point: no child written/);
    expect(existsSync(other)).toBe(false);
  });

  it('edits the submitted input and continues live', async () => {
    const out = join(dir, 'other-task.tape');
    const r = await arcp(['fork', parent, '--at', 'submit:1', '--set', '/payload/input/task="Hello there"', '--out', out, '--llm-upstream', llm.url, '--token', 'tok', '--', ...serve]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const submit = readFrames(out).find((f) => f.dir === 'c2s' && f.data.includes('"job.submit"'))!;
    expect(JSON.parse(submit.data.toString()).payload.input).toEqual({ task: 'Hello there' });
    expect(answer(out)).toBe('I can add up an order: ask me for the total of some items with tax.');
    const first = RequestHead.parse(JSON.parse(readFrames(out).find((f) => f.kind === 'http.request')!.data.toString()));
    expect(first.headers.find(([k]) => k === 'arcp-job-id')).toBeDefined();
  });

  it('edits a runtime frame and replays it to a client under test', async () => {
    const forged = join(dir, 'forged.tape');
    const f = await arcp(['fork', parent, '--at', 'job:1/result', '--set', '/payload/result/answer="forged answer"', '--keep-rest', '--out', forged]);
    expect(f.exitCode, f.stderr).toBe(0);
    const rep = execa(process.execPath, [BIN, 'replay', forged, '--listen'], { reject: false });
    const url = await new Promise<string>((resolve) => rep.stdout!.on('data', (d) => /ARCP_URL=(\S+)/.test(String(d)) && resolve(/ARCP_URL=(\S+)/.exec(String(d))![1])));
    const s = await arcp([...submitArgs(), '--url', url]);
    // What the client printed is the edited frame.
    expect(resultOf(s.stdout).payload.result?.answer, s.stdout + s.stderr).toBe('forged answer');
    expect((await rep).stdout).toMatch(/clean replay/);
  });

  it('a bad address or edit is one line naming the step and the nearest valid ones', async () => {
    const cases: [string[], RegExp][] = [
      [['--at', 'job:1/llm:9'], /no step job:1\/llm:9 in the tape: job 1 has 4 LLM exchanges \(nearest: job:1\/llm:4, job:1\/llm:3;/],
      [['--at', 'job:1/llm:3', '--set', '/tool_calls/4/function/name="x"'], /the edit does not apply at job:1\/llm:3: \/tool_calls\/4 does not exist \(nearest: \/tool_calls\/0;/],
      [['--at', 'job:1/llm:3', '--set', '/tool_calls/0/function/name=42'], /the edit does not apply at job:1\/llm:3: the edited message does not fit a chat completion message \(\/tool_calls\/0\/function\/name/],
      [['--at', 'job:1/event:2', '--token', 'tok', '--', ...serve], /job:1\/event:2 is a frame the runtime sent; a live runtime sends its own \(fork it without a runtime and replay the child/],
    ];
    for (const [args, want] of cases) {
      const r = await arcp(['fork', parent, ...args, '--out', join(dir, 'bad.tape')]);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(oneLine(r.stderr)).toMatch(want);
    }
    expect(existsSync(join(dir, 'bad.tape'))).toBe(false);
  });
});
