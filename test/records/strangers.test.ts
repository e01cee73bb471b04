import { describe, expect, it } from 'vitest';
import { copyFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { deriveRecords } from '../../src/records/derive.js';
import { arcp } from '../helpers/cli.js';
import type { ArcpRecord } from '../../src/records/schema.js';
import { tapeDir } from '../helpers/tape.js';
import { falseEvidence } from './evidence-check.js';
import { accepted, env, event, hello, jobError, result, welcome, writeTape, type Line } from './tape-builder.js';

/**
 * Wire behaviour of runtimes and clients that are not ours, written to a tape as a recorder
 * would have stored it: each case is the input a naive pairing of frames would get wrong.
 */
const tape = tapeDir();
const S = 'sess_A';
const open = (ch = 1, session = S): Line[] => [
  { ch, dir: 'c2s', msg: hello() },
  { ch, dir: 's2c', msg: welcome(session) },
];
const derive = async (name: string, lines: Line[], channels = 1) => {
  const path = tape(`${name}.tape`);
  await writeTape(path, Array.from({ length: channels }, () => ({ kind: 'ws' as const })), lines);
  const doc = deriveRecords(path);
  expect(falseEvidence(doc, path)).toEqual([]);
  return doc.records;
};
const byAction = (rs: ArcpRecord[], action: string) => rs.filter((r) => r.event.action === action);

describe('records of strangers\' traffic', () => {
  it('two submits answered in the other order: each job keeps its own submitted input', async () => {
    const rs = await derive('reordered', [
      ...open(),
      { ch: 1, dir: 'c2s', msg: env('job.submit', { agent: 'echo', input: { n: 1 } }) },
      { ch: 1, dir: 'c2s', msg: env('job.submit', { agent: 'chatty', input: { n: 2 } }) },
      { ch: 1, dir: 's2c', msg: accepted(S, 'job_B', 'chatty') },
      { ch: 1, dir: 's2c', msg: accepted(S, 'job_A', 'echo') },
      { ch: 1, dir: 's2c', msg: result(S, 'job_A', 1, { echoed: { n: 1 } }) },
      { ch: 1, dir: 's2c', msg: result(S, 'job_B', 2, { outliers: 3 }) },
    ]);
    expect(byAction(rs, 'job:echo')[0].event).toMatchObject({ correlationId: 'job_A', inputs: { input: { n: 1 } } });
    expect(byAction(rs, 'job:chatty')[0].event).toMatchObject({ correlationId: 'job_B', inputs: { input: { n: 2 } } });
  });

  it('a DUPLICATE_KEY naming a running job on its own session is a rejected submit, not that job\'s end', async () => {
    const rs = await derive('duplicate-running', [
      ...open(),
      { ch: 1, dir: 'c2s', msg: env('job.submit', { agent: 'slow', idempotency_key: 'k' }) },
      { ch: 1, dir: 's2c', msg: accepted(S, 'job_A', 'slow') },
      { ch: 1, dir: 'c2s', msg: env('job.submit', { agent: 'echo', idempotency_key: 'k' }) },
      { ch: 1, dir: 's2c', msg: jobError(S, 'job_A', 1, 'DUPLICATE_KEY', { details: { existing_job_id: 'job_A' } }) },
      { ch: 1, dir: 's2c', msg: result(S, 'job_A', 2, { steps: 1 }) },
    ]);
    expect(byAction(rs, 'job:slow')[0].event).toMatchObject({ status: 'ok', output: { steps: 1 } });
    expect(byAction(rs, 'job:echo')[0].event).toMatchObject({ status: 'error', error: { code: 'DUPLICATE_KEY' }, correlationId: 'job_A' });
  });

  it('a runtime that ends a cancelled job without job.cancelled: the cancel is answered by the job\'s CANCELLED end', async () => {
    const rs = await derive('no-cancelled', [
      ...open(),
      { ch: 1, dir: 'c2s', msg: env('job.submit', { agent: 'slow' }) },
      { ch: 1, dir: 's2c', msg: accepted(S, 'job_A', 'slow') },
      { ch: 1, dir: 'c2s', msg: env('job.cancel', { reason: 'stop' }, { job_id: 'job_A' }) },
      { ch: 1, dir: 's2c', msg: jobError(S, 'job_A', 1, 'CANCELLED') },
    ]);
    expect(byAction(rs, 'job.cancel')[0].event).toMatchObject({ status: 'ok', attributes: { 'arcp.answer_matched_by': 'job outcome' } });
    expect(byAction(rs, 'job:slow')[0].event.error?.code).toBe('CANCELLED');
  });

  it('events a resumed session gets again, and a subscriber\'s copies, count once', async () => {
    const rs = await derive(
      'resumed',
      [
        ...open(1),
        { ch: 1, dir: 'c2s', msg: env('job.submit', { agent: 'chatty' }) },
        { ch: 1, dir: 's2c', msg: accepted(S, 'job_A', 'chatty') },
        { ch: 1, dir: 's2c', msg: event(S, 'job_A', 1, 'tool_call', { tool: 'stats.summarize', args: {}, call_id: 'c1' }) },
        ...open(2, 'sess_B'),
        { ch: 2, dir: 'c2s', msg: env('job.subscribe', { job_id: 'job_A', history: true }) },
        { ch: 2, dir: 's2c', msg: event('sess_B', 'job_A', 1, 'tool_call', { tool: 'stats.summarize', args: {}, call_id: 'c1' }) },
        { ch: 3, dir: 'c2s', msg: env('session.hello', { auth: { scheme: 'bearer', token: 'tok' }, resume: { session_id: S, resume_token: 'rt_1', last_event_seq: 0 } }) },
        { ch: 3, dir: 's2c', msg: welcome(S) },
        { ch: 3, dir: 's2c', msg: event(S, 'job_A', 1, 'tool_call', { tool: 'stats.summarize', args: {}, call_id: 'c1' }) },
        { ch: 3, dir: 's2c', msg: event(S, 'job_A', 2, 'tool_result', { call_id: 'c1', result: { mean: 1 } }) },
        { ch: 2, dir: 's2c', msg: event('sess_B', 'job_A', 2, 'tool_result', { call_id: 'c1', result: { mean: 1 } }) },
        { ch: 3, dir: 's2c', msg: result(S, 'job_A', 3, { done: true }) },
      ],
      3,
    );
    expect(byAction(rs, 'tool:stats.summarize').map((r) => r.event.status)).toEqual(['ok']);
    expect(byAction(rs, 'job:chatty')[0].event).toMatchObject({ status: 'ok', attributes: { 'arcp.session_id': S } });
  });

  it('frames that are not JSON, binary, or not ARCP at all are passed over; the job around them still reads', async () => {
    const path = tape('odd.tape');
    await writeTape(path, [{ kind: 'ws' }], [
      ...open(),
      { ch: 1, dir: 'c2s', kind: 'ws.text', data: '{"arcp":"1.1","type":' },
      { ch: 1, dir: 'c2s', kind: 'ws.binary', data: Buffer.from([0xff, 0x00, 0x7b]) },
      { ch: 1, dir: 'c2s', kind: 'ws.text', data: '[1,2,3]' },
      { ch: 1, dir: 'c2s', msg: env('job.submit', { agent: 'echo' }) },
      { ch: 1, dir: 's2c', kind: 'ws.text', data: '{"hello":"not arcp"}' },
      { ch: 1, dir: 's2c', msg: accepted(S, 'job_A', 'echo') },
      { ch: 1, dir: 's2c', msg: result(S, 'job_A', 1, null) },
    ]);
    const [job] = deriveRecords(path).records;
    expect(job.event).toMatchObject({ status: 'ok', output: null, correlationId: 'job_A' });
  });

  it('an LLM call whose two headers name different jobs follows arcp-job-id and says so', async () => {
    const path = tape('conflict.tape');
    const head = { method: 'POST', path: '/llm/chat/completions', headers: [['traceparent', `00-${'a'.repeat(32)}-00f067aa0ba902b7-01`], ['arcp-job-id', 'job_B']], upstream: 'http://x' };
    await writeTape(path, [{ kind: 'ws' }, { kind: 'http', info: { route: '/llm' } }], [
      ...open(),
      { ch: 1, dir: 'c2s', msg: env('job.submit', { agent: 'echo' }) },
      { ch: 1, dir: 's2c', msg: accepted(S, 'job_A', 'echo') },
      { ch: 2, dir: 'c2s', kind: 'http.request', data: head },
      { ch: 2, dir: 'c2s', kind: 'http.request.body', data: '{"model":"m1","messages":[]}' },
      { ch: 2, dir: 's2c', kind: 'http.response', data: { status: 200, headers: [['content-type', 'application/json']] } },
      { ch: 2, dir: 's2c', kind: 'http.response.body', data: '{"choices":[{"message":{"content":"hi"}}]}' },
      { ch: 2, dir: 'meta', kind: 'transport.close', data: {} },
      { ch: 1, dir: 's2c', msg: result(S, 'job_A', 1, null) },
    ]);
    const llm = deriveRecords(path).records.find((r) => r.kind === 'llm')!;
    expect(llm.event).toMatchObject({ status: 'ok', correlationId: 'job_B', output: { choices: [{ message: { content: 'hi' } }] }, attributes: { 'arcp.correlated_by': 'arcp-job-id', 'arcp.notes': `traceparent names trace ${'a'.repeat(32)} of job job_A, arcp-job-id names job_B` } });
  });

  it('a file that is not a tape, or a tape whose frames no longer match its seal, is one line naming it (exit 2)', async () => {
    const foreign = tape('notes.tape');
    writeFileSync(foreign, 'just some notes\n');
    const r = await arcp(['tape', 'records', foreign]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toMatch(/^arcp: .*notes\.tape is not an arcp tape \(not an SQLite file\)/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const resealed = tape('resealed.tape');
    copyFileSync(tape('reordered.tape'), resealed);
    const db = new Database(resealed);
    db.prepare("UPDATE meta SET value = ? WHERE key = 'fingerprint'").run(JSON.stringify(`fp1:${'0'.repeat(64)}`));
    db.close();
    const s = await arcp(['tape', 'records', resealed]);
    expect(s.exitCode).toBe(2);
    expect(s.stderr.trim()).toMatch(/^arcp: .*resealed\.tape: its frames give fingerprint fp1:[0-9a-f]{64}, but the tape was sealed with fp1:0{64} \(`arcp tape verify` lists what is wrong/);
  }, 40_000);
});
