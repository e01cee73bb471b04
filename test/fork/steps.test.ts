import { beforeAll, describe, expect, it } from 'vitest';
import { resolveStep, tapeSteps, type TapeSteps } from '../../src/fork/steps.js';
import { defaultRules } from '../../src/tape/redact.js';
import { TapeWriter } from '../../src/tape/writer.js';
import { tapeDir } from '../helpers/tape.js';

const tape = tapeDir();
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CHILD_TRACE = TRACE;
let t: TapeSteps;

/** A tape written by hand: two jobs (one delegated), a rejected submit, LLM calls linked three ways. */
beforeAll(async () => {
  const path = tape('jobs.tape');
  const w = await TapeWriter.create({ path, commandLine: ['test'], redaction: defaultRules() });
  const ws = w.channel('ws', 'ws#1 /');
  const msg = (dir: 'c2s' | 's2c', m: Record<string, unknown>) => w.event(ws, dir, 'ws.text', { arcp: '1.1', id: `msg_${Math.random()}`, ...m });
  const http = (headers: [string, string][], path = '/llm/chat/completions') => {
    const ch = w.channel('http', `POST ${path}`, { url: path });
    w.event(ch, 'c2s', 'http.request', { method: 'POST', path, headers });
    w.frame(ch, 'c2s', 'http.request.body', '{"model":"m","messages":[]}');
    w.event(ch, 's2c', 'http.response', { status: 200, headers: [['content-type', 'application/json']] });
    w.frame(ch, 's2c', 'http.response.body', '{"choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}');
  };
  msg('c2s', { type: 'job.submit', payload: { agent: 'parent' } });
  msg('s2c', { type: 'job.accepted', job_id: 'job_A', payload: { job_id: 'job_A', agent: 'parent', trace_id: TRACE } });
  http([['arcp-job-id', 'job_A']]);
  msg('s2c', { type: 'job.event', job_id: 'job_A', event_seq: 1, payload: { kind: 'tool_call', body: { tool: 'calculator', args: { expression: '1+1' }, call_id: 'call_alpha' } } });
  msg('s2c', { type: 'job.event', job_id: 'job_A', event_seq: 2, payload: { kind: 'tool_result', body: { call_id: 'call_alpha', result: { value: 2 } } } });
  msg('s2c', { type: 'job.accepted', job_id: 'job_B', payload: { job_id: 'job_B', agent: 'child', parent_job_id: 'job_A', trace_id: CHILD_TRACE } });
  http([['traceparent', `00-${TRACE}-00f067aa0ba902b7-01`]]);
  http([['x-other', '1']]);
  http([['arcp-job-id', 'job_A']], '/tools/search');
  msg('s2c', { type: 'job.result', job_id: 'job_B', event_seq: 3, payload: { final_status: 'success', result: { passed: 1 } } });
  msg('s2c', { type: 'job.result', job_id: 'job_A', event_seq: 4, payload: { final_status: 'success', result: { ok: true } } });
  w.event(ws, 'c2s', 'ws.text', { arcp: '1.1', id: 'msg_rejected', type: 'job.submit', payload: { agent: 'nope' } });
  msg('s2c', { type: 'job.error', job_id: 'job_C', event_seq: 5, payload: { final_status: 'error', code: 'AGENT_NOT_AVAILABLE', message: 'no', details: { request_id: 'msg_rejected' } } });
  await w.close();
  t = tapeSteps(path);
});

describe('jobs and steps of a tape', () => {
  it('links each HTTP exchange to its job: by the job-id header, else by the trace context of a top-level job', () => {
    const [a, b, c] = t.index.jobs;
    expect([a.id, b.id, c.id]).toEqual(['job_A', 'job_B', 'job_C']);
    expect(a.exchanges.map((e) => e.linkedBy)).toEqual(['job-id header', 'traceparent', 'job-id header']);
    expect(b).toMatchObject({ parentId: 'job_A', status: 'success' });
    expect(c).toMatchObject({ status: 'error', error: { code: 'AGENT_NOT_AVAILABLE' }, submitSeq: t.index.submits[1].seq });
    expect(t.index.submits.map((s) => s.jobId)).toEqual(['job_A', 'job_C']);
    expect(t.index.exchanges.filter((e) => !e.jobId)).toHaveLength(1);
  });

  it('names steps semantically and by seq', () => {
    const addresses = t.steps.map((s) => s.address);
    expect(addresses).toEqual(expect.arrayContaining(['submit:1', 'submit:2', 'job:1/accepted', 'job:1/llm:1', 'job:1/llm:2', 'job:1/event:1', 'job:1/event:2', 'job:1/result', 'job:2/result', 'job:3/result', 'llm:3', 'http:4']));
    const at = (a: string) => resolveStep(t.index, t.steps, a);
    expect(at('job:1/tool_call:call_alpha').address).toBe('job:1/event:1');
    expect(at('job:1/tool_result:call_alpha').address).toBe('job:1/event:2');
    expect(at('tool_call:call_alpha').address).toBe('job:1/event:1');
    expect(at('job:job_A/llm:2').address).toBe('job:1/llm:2');
    expect(at('llm:2').address).toBe('job:1/llm:2');
    expect(at('http:4').role).toBe('http');
    const llm1 = at('job:1/llm:1');
    // Any frame of an exchange names the exchange.
    for (const seq of llm1.exchange!.seqs) expect(at(`seq:${seq}`).address).toBe('job:1/llm:1');
    expect(at(String(t.index.submits[0].seq)).address).toBe('submit:1');
  });

  it('refuses a bad address in one line with the nearest valid ones', () => {
    const fails = (a: string) => {
      try {
        resolveStep(t.index, t.steps, a);
      } catch (e) {
        return `${(e as Error).message} (${(e as { hint?: string }).hint})`;
      }
      throw new Error(`${a} resolved`);
    };
    expect(fails('job:1/llm:5')).toMatch(/job 1 has 2 LLM exchanges \(nearest: job:1\/llm:2, job:1\/llm:1;/);
    expect(fails('job:1/event:0')).toMatch(/nearest: job:1\/event:1, job:1\/event:2/);
    expect(fails('job:9/result')).toMatch(/the tape has 3 jobs \(nearest: job:3\/…, job:2\/…/);
    expect(fails('job:1/tool_call:call_alpah')).toMatch(/no tool_call with call_id "call_alpah" \(nearest: job:1\/tool_call:call_alpha/);
    expect(fails('submit:7')).toMatch(/the tape has 2 job\.submits \(nearest: submit:2, submit:1/);
    expect(fails('job:1')).toMatch(/a job is not a step/);
    expect(fails('seq:9999')).toMatch(/frame 9999 is not an ARCP message or an HTTP exchange/);
    expect(fails('llm')).toMatch(/"llm" is not a step address \(use seq:N, submit:N/);
  });
});
