import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobMessage } from '../../src/client/job-handle.js';
import { tapeSteps } from '../../src/fork/steps.js';
import { DEMO_SCRIPT } from '../../src/llm/demo-script.js';
import { startScriptedLlm, type ScriptedLlm } from '../../src/llm/scripted-server.js';
import { record } from '../../src/record/recorder.js';
import { DEFAULT_LLM, type LlmSettings } from '../../src/runtime/agents/assistant.js';
import { referenceAgents } from '../../src/runtime/agents/index.js';
import { RequestHead } from '../../src/tape/format.js';
import { connect, startRuntime } from '../helpers/runtime.js';
import { readFrames, tapeDir } from '../helpers/tape.js';

const tape = tapeDir();
const TASK = 'What is the total for 3 items at 17.50 each plus 8% tax?';
const LEASE = { 'tool.call': ['calculator'], 'fs.read': ['/nowhere/**'] };
let llm: ScriptedLlm;
const settings: LlmSettings = { ...DEFAULT_LLM };
let rt: Awaited<ReturnType<typeof startRuntime>>;
const servers: Server[] = [];

beforeAll(async () => {
  llm = await startScriptedLlm({
    script: { ...DEMO_SCRIPT, replies: [{ when: { last_contains: 'PERMISSION_DENIED' }, say: 'The lease does not let me use the calculator.' }, ...DEMO_SCRIPT.replies] },
  });
  rt = await startRuntime({ agents: referenceAgents(() => settings) });
});
afterAll(async () => {
  await rt.close();
  await llm.close();
  for (const s of servers) s.close();
});

async function run(input: unknown, lease: Record<string, string[]> = LEASE, url = rt.url) {
  const c = await connect(url);
  const h = c.submit({ agent: 'assistant', input, lease_request: lease });
  const messages: JobMessage[] = [];
  h.onMessage((m) => messages.push(m));
  const outcome = await h.done.then((r) => ({ result: r.result as Record<string, unknown>, error: undefined }), (e: Error & { code?: string }) => ({ result: undefined, error: e }));
  await c.close();
  const events = messages.filter((m) => m.type === 'job.event').map((m) => (m.payload as { kind: string; body: Record<string, unknown> }));
  return { ...outcome, events, jobId: h.jobId!, messages };
}

/** A peer that misbehaves the way real LLM endpoints do. */
async function brokenLlm(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const s = createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}/v1`;
}

describe('the assistant agent (a tool-using loop against an LLM over HTTP)', () => {
  it('runs the loop: one thought, tool_call and tool_result per model turn, the answer as job.result', async () => {
    settings.url = llm.url;
    const r = await run({ task: TASK });
    expect(r.error).toBeUndefined();
    expect(r.events.map((e) => e.kind)).toEqual(['thought', 'tool_call', 'tool_result', 'thought', 'tool_call', 'tool_result', 'thought', 'tool_call', 'tool_result']);
    expect(r.events[1].body).toMatchObject({ tool: 'calculator', args: { expression: '3 * 17.50' }, call_id: expect.stringMatching(/^call_/) });
    expect(r.events[2].body).toMatchObject({ call_id: r.events[1].body.call_id, result: { value: 52.5 } });
    expect(r.result).toMatchObject({ answer: 'The total is 56.7.', turns: 4 });
  });

  it('sends the job’s traceparent and id on every request, so the recording links each exchange to its job', async () => {
    const path = tape('assistant.tape');
    const rec = await record({ tape: path, ws: { upstream: rt.url }, http: { routes: [{ prefix: '/llm', upstream: llm.url }] } });
    settings.url = rec.addresses.http + '/llm';
    const r = await run({ task: TASK }, LEASE, rec.addresses.ws!);
    await rec.stop();
    expect(r.error).toBeUndefined();
    const traceId = (r.messages.find((m) => m.type === 'job.accepted')!.payload as { trace_id: string }).trace_id;
    const heads = readFrames(path).filter((f) => f.kind === 'http.request').map((f) => RequestHead.parse(JSON.parse(f.data.toString())));
    expect(heads).toHaveLength(4);
    for (const h of heads) {
      const header = (name: string) => h.headers.find(([k]) => k.toLowerCase() === name)?.[1];
      expect(header('traceparent')).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
      expect(header('arcp-job-id')).toBe(r.jobId);
    }
    const steps = tapeSteps(path);
    expect(steps.index.jobs).toHaveLength(1);
    expect(steps.index.jobs[0].exchanges.map((e) => e.linkedBy)).toEqual(['job-id header', 'job-id header', 'job-id header', 'job-id header']);
    expect(steps.steps.filter((s) => s.role === 'llm').map((s) => s.address)).toEqual(['job:1/llm:1', 'job:1/llm:2', 'job:1/llm:3', 'job:1/llm:4']);
  });

  it('speaks Anthropic Messages too', async () => {
    settings.url = llm.url;
    settings.api = 'anthropic';
    try {
      const r = await run({ task: TASK });
      expect(r.result).toMatchObject({ answer: 'The total is 56.7.', turns: 4 });
      expect(r.events[1].body.call_id).toMatch(/^toolu_/);
    } finally {
      settings.api = 'openai';
    }
  });

  it('tells the model when the lease denies a tool, and goes on', async () => {
    settings.url = llm.url;
    const r = await run({ task: TASK }, { 'tool.call': ['something-else'] });
    expect(r.events.map((e) => e.kind)).toEqual(['thought', 'tool_call', 'tool_result']);
    expect(r.events[2].body).toMatchObject({ error: { code: 'PERMISSION_DENIED' } });
    // The scripted model answered from the denial it was sent.
    expect(r.result).toMatchObject({ answer: 'The lease does not let me use the calculator.', turns: 2 });
  });

  it('fails the job in one clear line when the LLM is unreachable, errs, dies mid-stream or streams garbage', async () => {
    settings.url = 'http://127.0.0.1:1/v1';
    expect((await run({ task: TASK })).error?.message).toMatch(/LLM at http:\/\/127\.0\.0\.1:1\/v1\/chat\/completions unreachable: ECONNREFUSED/);
    settings.url = await brokenLlm((_q, s) => s.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"model overloaded"}}'));
    expect((await run({ task: TASK })).error?.message).toMatch(/answered 500: model overloaded/);
    settings.url = await brokenLlm((_q, s) => {
      s.writeHead(200, { 'content-type': 'text/event-stream' });
      s.write('data: {"id":"x","choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n');
      setTimeout(() => s.socket?.destroy(), 20);
    });
    expect((await run({ task: TASK })).error?.message).toMatch(/unreadable answer|terminated|other side closed/);
    settings.url = await brokenLlm((_q, s) => s.writeHead(200, { 'content-type': 'text/event-stream' }).end('data: <html>oops</html>\n\n'));
    expect((await run({ task: TASK })).error?.message).toMatch(/unreadable answer: a stream event is not JSON/);
    settings.url = undefined;
    expect((await run({ task: TASK })).error?.message).toMatch(/has no LLM: start the runtime with --llm-url/);
    settings.url = llm.url;
    expect((await run({})).error?.message).toMatch(/needs input \{"task"/);
  });
});
