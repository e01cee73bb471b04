import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArcpClient } from '../../src/client/client.js';
import { ArcpError } from '../../src/engine/errors.js';
import { ExecutionEvent, RecordsDocument, type ArcpRecord } from '../../src/records/schema.js';
import { arcp } from '../helpers/cli.js';
import { tapeDir } from '../helpers/tape.js';
import { until } from '../helpers/runtime.js';
import { citedValue, falseEvidence } from './evidence-check.js';
import { recordCli, serveCli } from './processes.js';
import { scriptedLlm, textAnswer, toolCallAnswer, type ScriptedLlm } from './scripted-llm.js';

/**
 * One recording, end to end through `arcp record` (a child process) in front of `arcp serve`
 * (another) and a scripted LLM: the conformance agents run by `arcp submit`, and a job whose
 * client makes LLM calls carrying the job's traceparent and arcp-job-id, then cancels it.
 * Everything the records say is checked against what the peers sent and against the tape.
 */
const tape = tapeDir()('e2e.tape');
const TOKEN = 'sekrit-bearer-0f9d8c7b6a';
const LLM_KEY = 'sk-proj-LLMSECRET-9a8b7c6d5e4f';
const INPUT_SECRET = 'PW-input-secret-31337';
const MODEL = 'gpt-4o-mini';
let llm: ScriptedLlm;
let doc: RecordsDocument;
let human = '';
let events = '';
let written = '';
let credentialValue = '';
let slowJob = '';
let slowTrace = '';
const jobOf = (agent: string) => doc.records.find((r) => r.kind === 'job' && r.event.attributes?.['arcp.agent'] === agent)!;
const actions = (job: ArcpRecord, kind: string) => doc.records.filter((r) => r.kind === kind && r.job === job.job);

beforeAll(async () => {
  llm = await scriptedLlm([toolCallAnswer(MODEL), textAnswer(MODEL, 'The sum is 5.'), textAnswer(MODEL, 'traced only'), { status: 429, json: { error: { message: 'Rate limit reached for gpt-4o-mini', type: 'rate_limit_exceeded' } } }, textAnswer(MODEL, 'nobody asked')]);
  const serve = await serveCli(['--token', `${TOKEN}=alice`]);
  const rec = await recordCli(['--upstream', serve.url, '--http', `/openai=${llm.url}/v1`, '--tape', tape, '--redact-pointer', '/payload/input/password']);
  const submit = (agent: string, input?: unknown, lease?: unknown) =>
    arcp(['submit', '--url', rec.ws!, '--token', TOKEN, '--agent', agent, '--json', ...(input ? ['--input', JSON.stringify(input)] : []), ...(lease ? ['--lease', JSON.stringify(lease)] : [])]);
  const [echo, chatty, fail, budget, parent, creds] = await Promise.all([
    submit('echo', { hello: 'world' }),
    submit('chatty', { dataset: 's3://example/sales.csv', password: INPUT_SECRET }, { 'tool.call': ['stats.*'] }),
    submit('fail'),
    submit('budget', { iterations: 8, perCallUSD: 0.3 }, { 'tool.call': ['search.*'], 'cost.budget': ['USD:1.00'] }),
    submit('parent', { violate: true, waitMs: 20 }, { 'agent.delegate': ['child'], 'fs.read': ['/workspace/app/**'] }),
    submit('llm', {}, { 'model.use': ['gpt-*'] }),
  ]);
  expect([echo, chatty, fail, budget, parent, creds].map((r) => r.exitCode)).toEqual([0, 0, 1, 1, 0, 0]);
  const accepted = creds.stdout.split('\n').map((l) => JSON.parse(l)).find((m) => m.type === 'job.accepted');
  credentialValue = accepted.payload.credentials[0].value;

  // A client that calls the LLM for its job, as the tool-using agent does, then cancels it.
  const client = await ArcpClient.connect(rec.ws!, { token: TOKEN, requestTimeoutMs: 10_000 });
  const h = client.submit({ agent: 'slow', input: { steps: 600, tickMs: 50 } });
  await h.acceptedP;
  slowJob = h.jobId!;
  slowTrace = String(h.accepted!.trace_id);
  const traceparent = `00-${slowTrace}-00f067aa0ba902b7-01`;
  const ask = async (headers: Record<string, string>, content: string) => {
    const r = await request(`${rec.http}/openai/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${LLM_KEY}`, ...headers }, body: JSON.stringify({ model: MODEL, stream: true, messages: [{ role: 'user', content }] }) });
    await r.body.text();
  };
  await ask({ traceparent, 'arcp-job-id': slowJob }, 'add 2 and 3');
  await ask({ traceparent, 'arcp-job-id': slowJob }, 'the tool said 5');
  await ask({ traceparent }, 'trace only');
  await ask({ 'arcp-job-id': slowJob }, 'job id only');
  await ask({}, 'no job at all');
  await until(() => h.events.some((e) => e.kind === 'metric'), 10_000, 'a step of the slow job');
  client.cancel(slowJob, 'the user changed their mind');
  expect(await h.done.catch((e: ArcpError) => e.code)).toBe('CANCELLED');
  await client.close();
  const stopped = await rec.stop();
  expect(stopped.exitCode, stopped.stderr).toBe(0);
  await serve.stop();

  const json = await arcp(['tape', 'records', tape, '--json']);
  expect(json.exitCode, json.stderr).toBe(0);
  doc = RecordsDocument.parse(JSON.parse(json.stdout));
  human = (await arcp(['tape', 'records', tape])).stdout;
  events = (await arcp(['tape', 'records', tape, '--events'])).stdout;
  const out = tape.replace(/\.tape$/, '.records.json');
  expect((await arcp(['tape', 'records', tape, '-o', out])).exitCode).toBe(0);
  written = readFileSync(out, 'latin1');
}, 90_000);
afterAll(() => llm?.close());

describe('arcp tape records over a tape recorded end to end', () => {
  it('echo: the intent is the agent and its submitted input, the outcome its result', () => {
    const r = jobOf('echo');
    expect(r.event).toMatchObject({ status: 'ok', action: 'job:echo', intent: 'run agent "echo" on the submitted input', output: { echoed: { hello: 'world' } } });
    expect(r.event.inputs).toMatchObject({ agent: 'echo', input: { hello: 'world' } });
    expect(r.event.correlationId).toMatch(/^job_/);
    expect(r.event.attributes).toMatchObject({ 'arcp.principal': expect.stringMatching(/^bearer \[arcp-redacted:\d+\]$/), 'arcp.lease': '{}', 'arcp.outcome': 'result', 'arcp.final_status': 'success', 'arcp.client': expect.stringMatching(/^arcp/) });
    expect(r.event.attributes?.['arcp.session_id']).toMatch(/^sess_/);
    expect(r.event.attributes?.['arcp.trace_id']).toMatch(/^[0-9a-f]{32}$/);
    // The evidence leads to the frames that say so.
    expect(citedValue(doc, tape, r.event.id, 'output')).toEqual(r.event.output);
    expect(citedValue(doc, tape, r.event.id, 'inputs')).toEqual(r.event.inputs);
  });

  it('chatty: a tool call that ran and one the lease denied (PERMISSION_DENIED), each its own record', () => {
    const job = jobOf('chatty');
    expect(job.event).toMatchObject({ status: 'ok', output: { outliers: 3, total_usd: 42000 } });
    const [ran, denied] = actions(job, 'tool');
    expect(ran.event).toMatchObject({ status: 'ok', action: 'tool:stats.summarize', inputs: { tool: 'stats.summarize', args: { column: 'revenue' }, call_id: 'c1' }, output: { mean: 348.12, p95: 1102.4 }, correlationId: job.job });
    expect(denied.event).toMatchObject({ status: 'error', action: 'tool:shell.exec', error: { name: 'ArcpError', code: 'PERMISSION_DENIED' }, inputs: { args: { cmd: 'rm -rf /tmp/cache' } } });
    expect(denied.event.attributes).toMatchObject({ 'arcp.lease': '{"tool.call":["stats.*"]}', 'arcp.call_id': 'c2', 'arcp.retryable': false });
    expect(denied.event.output).toBeUndefined();
  });

  it('a failing job: error with the runtime\'s code and retryable', () => {
    expect(jobOf('fail').event).toMatchObject({ status: 'error', error: { code: 'INTERNAL_ERROR', message: 'boom: agent crashed' }, attributes: { 'arcp.retryable': true, 'arcp.final_status': 'error' } });
  });

  it('budget: each call with its cost and the budget the runtime reported left; the call past it refused', () => {
    const job = jobOf('budget');
    expect(job.event).toMatchObject({ status: 'error', error: { code: 'BUDGET_EXHAUSTED' }, attributes: { 'arcp.budget.USD': 1, 'arcp.budget_remaining.USD': -0.2 } });
    const calls = actions(job, 'tool');
    expect(calls.map((c) => c.event.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'error']);
    expect(calls.map((c) => c.event.attributes?.['arcp.cost.USD'])).toEqual([0.3, 0.3, 0.3, 0.3, undefined]);
    expect(calls.map((c) => c.event.attributes?.['arcp.budget_remaining.USD'])).toEqual([0.7, 0.4, 0.1, -0.2, -0.2]);
    expect(calls[4].event.error).toMatchObject({ code: 'BUDGET_EXHAUSTED' });
    expect(citedValue(doc, tape, calls[2].event.id, 'attributes.arcp.budget_remaining.USD')).toBe(0.1);
  });

  it('delegation: parent → child, the granted lease and the child\'s result; the over-broad one refused', () => {
    const parent = jobOf('parent');
    const child = jobOf('child');
    const [ok, refused] = actions(parent, 'delegation');
    expect(ok.event).toMatchObject({ status: 'ok', action: 'delegate:child', output: { child_job_id: child.job, lease: { 'fs.read': ['/workspace/app/tests/**'] }, result: { passed: 127, failed: 0 } } });
    expect(ok.event.attributes).toMatchObject({ 'arcp.delegate_id': 'del_1', 'arcp.child_job_id': child.job, 'arcp.lease_request': '{"fs.read":["/workspace/app/tests/**"]}' });
    expect(refused.event).toMatchObject({ status: 'error', error: { code: 'LEASE_SUBSET_VIOLATION' }, inputs: { delegate_id: 'del_bad', lease_request: { 'fs.write': ['/etc/**'] } } });
    expect(child.event).toMatchObject({ status: 'ok', intent: `run agent "child" on the input job ${parent.job} delegated to it`, attributes: { 'arcp.parent_job_id': parent.job, 'arcp.delegate_id': 'del_1' } });
  });

  it('cancel: the job ends CANCELLED, and the cancel is a record of its own', () => {
    const job = doc.records.find((r) => r.kind === 'job' && r.job === slowJob)!;
    expect(job.event).toMatchObject({ status: 'error', error: { code: 'CANCELLED' }, attributes: { 'arcp.final_status': 'cancelled' } });
    const [cancel] = actions(job, 'cancel');
    expect(cancel.event).toMatchObject({ status: 'ok', action: 'job.cancel', intent: `cancel job ${slowJob}: the user changed their mind`, output: { cancelled: true, reason: 'the user changed their mind' } });
  });

  it('LLM exchanges: tied to their job by either header, the streamed answer reassembled, the 429 an error', () => {
    const calls = doc.records.filter((r) => r.kind === 'llm');
    expect(calls).toHaveLength(5);
    const [tool, text, traced, limited, stray] = calls;
    expect(tool.event).toMatchObject({ status: 'ok', action: `llm:/openai/chat/completions ${MODEL}`, correlationId: slowJob, attributes: { 'arcp.correlated_by': 'arcp-job-id', 'arcp.trace_id': slowTrace, 'llm.model': MODEL, 'llm.stream': true, 'llm.dialect': 'openai.chat', 'http.status': 200, 'arcp.lease': '{}' } });
    expect(tool.event.output).toMatchObject({ object: 'chat.completion', choices: [{ message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_add_1', type: 'function', function: { name: 'calc.add', arguments: '{"a":2,"b":3}' } }] }, finish_reason: 'tool_calls' }], usage: { total_tokens: 30 } });
    expect((tool.event.inputs as { body: unknown }).body).toEqual(JSON.parse(llm.received[0].body));
    expect(text.event.output).toMatchObject({ choices: [{ message: { content: 'The sum is 5.' }, finish_reason: 'stop' }] });
    expect(traced.event).toMatchObject({ correlationId: slowJob, attributes: { 'arcp.correlated_by': 'traceparent' } });
    expect(limited.event).toMatchObject({ status: 'error', correlationId: slowJob, error: { name: 'HttpError', code: 'HTTP_429', message: 'Rate limit reached for gpt-4o-mini' }, attributes: { 'arcp.correlated_by': 'arcp-job-id', 'http.status': 429 } });
    expect(stray.event.correlationId).toBeUndefined();
    expect(stray.event.intent).toBe(`ask model "${MODEL}" at POST /openai/chat/completions (no job named in the request)`);
    const auth = (tool.event.inputs as { headers: [string, string][] }).headers.find(([k]) => k === 'authorization')!;
    expect(auth[1]).toMatch(/^(Bearer )?\[arcp-redacted:\d+\]$/);
  });

  it('every evidence link is true of the tape: the frame, its sha256, the pointer', () => {
    expect(doc.records.length).toBeGreaterThan(20);
    expect(falseEvidence(doc, tape)).toEqual([]);
  });

  it('records of a redacted tape hold no secret: bearer token, submit input, credentials[].value, Authorization', () => {
    expect(credentialValue).toMatch(/^sk-local_/);
    const all = Buffer.from(JSON.stringify(doc) + human + events + written);
    // The secret's bytes, and the forms a body could carry them in (base64, hex, URL-encoded).
    for (const secret of [TOKEN, INPUT_SECRET, credentialValue, LLM_KEY]) {
      for (const form of [secret, Buffer.from(secret).toString('base64').replace(/=+$/, ''), Buffer.from(secret).toString('hex'), encodeURIComponent(secret)]) expect(all.includes(form), `${secret} as ${form}`).toBe(false);
    }
    expect(jobOf('chatty').event.inputs).toMatchObject({ input: { password: expect.stringMatching(/^\[arcp-redacted:\d+\]$/) } });
    expect(jobOf('llm').event.attributes?.['arcp.credentials']).toMatch(/^cred_\w+ \(bearer\)$/);
  });

  it('--events prints bare IntentProof ExecutionEvents; the human view lists records under their jobs', () => {
    const lines = events.trim().split('\n').map((l) => ExecutionEvent.parse(JSON.parse(l)));
    expect(lines.map((e) => e.id)).toEqual(doc.records.map((r) => r.event.id));
    expect(human).toMatch(/job job_\w+ {2}chatty/);
    expect(human).toMatch(/tool {7}shell\.exec .*error PERMISSION_DENIED/);
    expect(human).toMatch(/llm {8}\/openai\/chat\/completions gpt-4o-mini/);
  });

  it('--job keeps one job\'s records; an unknown job is a usage error', async () => {
    const r = await arcp(['tape', 'records', tape, '--job', slowJob, '--json']);
    const one = RecordsDocument.parse(JSON.parse(r.stdout));
    expect(one.job).toBe(slowJob);
    expect(new Set(one.records.map((x) => x.kind))).toEqual(new Set(['job', 'llm', 'cancel']));
    expect(one.records.every((x) => x.job === slowJob)).toBe(true);
    const bad = await arcp(['tape', 'records', tape, '--job', 'job_NOPE']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/has no job job_NOPE \(its jobs: job_/);
  }, 40_000);
});
