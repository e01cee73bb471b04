import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { record, redactionRules } from '../../src/record/recorder.js';
import { deriveRecords } from '../../src/records/derive.js';
import type { ArcpRecord } from '../../src/records/schema.js';
import { startLlmUpstream, type LlmUpstream } from '../helpers/llm-upstream.js';
import { connect, startRuntime } from '../helpers/runtime.js';
import { tapeDir } from '../helpers/tape.js';
import { falseEvidence } from './evidence-check.js';

/**
 * LLM calls made by the official OpenAI and Anthropic SDKs (strangers: their own headers,
 * gzip, their own stream parsing) for a job, through the recorder. The records' reassembled
 * answers must be what the SDKs themselves assembled from the same bytes.
 */
const tape = tapeDir()('sdks.tape');
let up: LlmUpstream;
let llm: ArcpRecord[] = [];
let jobId = '';
const sdk: { openai?: OpenAI.Chat.Completions.ChatCompletion; anthropic?: Anthropic.Message; json?: Anthropic.Message; cutError?: string } = {};

beforeAll(async () => {
  up = await startLlmUpstream();
  const rt = await startRuntime();
  const rec = await record({ tape, ws: { upstream: rt.url }, http: { routes: [{ prefix: '/openai', upstream: `${up.url}/v1` }, { prefix: '/anthropic', upstream: up.url }] }, redaction: redactionRules({}) });
  const client = await connect(rec.addresses.ws!);
  const h = client.submit({ agent: 'slow', input: { steps: 600, tickMs: 50 } });
  await h.acceptedP;
  jobId = h.jobId!;
  const traceparent = `00-${h.accepted!.trace_id}-b7ad6b7169203331-01`;
  const openai = new OpenAI({ baseURL: `${rec.addresses.http}/openai`, apiKey: 'sk-proj-SDKKEY0123456789abcdef', maxRetries: 0, defaultHeaders: { 'arcp-job-id': jobId, traceparent } });
  const anthropic = new Anthropic({ baseURL: `${rec.addresses.http}/anthropic`, apiKey: 'sk-ant-SDKKEY0123456789abcdef', maxRetries: 0, defaultHeaders: { traceparent } });
  sdk.openai = await openai.chat.completions.stream({ model: 'gpt-test', messages: [{ role: 'user', content: 'stream' }] }).finalChatCompletion();
  sdk.anthropic = await anthropic.messages.stream({ model: 'claude-test', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
  sdk.json = await anthropic.messages.create({ model: 'claude-test', max_tokens: 10, messages: [{ role: 'user', content: 'once' }] });
  up.next.push('reset-mid-sse');
  try {
    for await (const _ of await openai.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'cut' }], stream: true }));
  } catch (e) {
    sdk.cutError = (e as Error).message;
  }
  client.cancel(jobId);
  await h.done.catch(() => undefined);
  await client.close();
  await rec.stop();
  await rt.close();
  const doc = deriveRecords(tape);
  expect(falseEvidence(doc, tape)).toEqual([]);
  llm = doc.records.filter((r) => r.kind === 'llm');
}, 60_000);
afterAll(() => up?.close());

describe('records of LLM calls the vendors\' SDKs made', () => {
  it('an OpenAI stream (gzip): the record\'s answer is the SDK\'s final completion', () => {
    const r = llm[0];
    expect(r.event).toMatchObject({ status: 'ok', correlationId: jobId, attributes: { 'arcp.correlated_by': 'arcp-job-id', 'llm.dialect': 'openai.chat', 'llm.model': 'gpt-test' } });
    const out = r.event.output as { choices: { message: { content: string }; finish_reason: string }[] };
    expect(out.choices[0].message.content).toBe(sdk.openai!.choices[0].message.content);
    expect(out.choices[0].finish_reason).toBe(sdk.openai!.choices[0].finish_reason);
  });

  it('an Anthropic stream, tied by traceparent alone: the record\'s message is the SDK\'s final message', () => {
    const r = llm[1];
    expect(r.event).toMatchObject({ status: 'ok', correlationId: jobId, attributes: { 'arcp.correlated_by': 'traceparent', 'llm.dialect': 'anthropic.messages', 'llm.stream': true } });
    const out = r.event.output as Anthropic.Message;
    expect(out.content).toEqual(sdk.anthropic!.content);
    expect(out.stop_reason).toBe(sdk.anthropic!.stop_reason);
    expect(out.usage.output_tokens).toBe(sdk.anthropic!.usage.output_tokens);
  });

  it('an unstreamed Anthropic answer is its JSON body, decoded from its content coding', () => {
    const r = llm[2];
    expect(r.event.output).toEqual(JSON.parse(JSON.stringify(sdk.json)));
    expect(r.event.attributes).toMatchObject({ 'llm.dialect': 'json', 'http.content_encoding': expect.stringMatching(/gzip|br|deflate/) });
  });

  it('a stream the upstream cut: an error with what the client got before the cut', () => {
    expect(sdk.cutError).toBeTruthy();
    const r = llm[3];
    expect(r.event).toMatchObject({ status: 'error', error: { name: 'TransportError', code: 'reset' }, attributes: { 'http.client': 'reset', 'http.status': 200 } });
    // The upstream cut the stream after its third event (role, "Hel", "lo"): the finish never came.
    expect((r.event.output as { choices: { message: { content: string }; finish_reason: unknown }[] }).choices[0]).toMatchObject({ message: { content: 'Hello' }, finish_reason: null });
  });

  it('the SDKs\' API keys are placeholders in the records', () => {
    const all = JSON.stringify(llm);
    expect(all).not.toContain('SDKKEY');
    const headers = llm.flatMap((r) => (r.event.inputs as { headers: [string, string][] }).headers).filter(([k]) => /^(authorization|x-api-key)$/i.test(k));
    expect(headers.length).toBe(4);
    for (const [, v] of headers) expect(v).toMatch(/\[arcp-redacted:\d+\]/);
  });
});
