import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { redactionRules } from '../../src/record/recorder.js';
import { deriveRecords } from '../../src/records/derive.js';
import { RecordsDocument, type ArcpRecord } from '../../src/records/schema.js';
import { importJsonl } from '../../src/tape/interchange/import-jsonl.js';
import { CAPTURES_DIR, captureFiles, readCapture } from '../helpers/captures.js';
import { arcp } from '../helpers/cli.js';
import { tapeDir } from '../helpers/tape.js';
import { falseEvidence } from './evidence-check.js';

/**
 * Records of a stranger's traffic: the public reference SDK as client and runtime (v1.0 forms,
 * refusals without a tool_call, rejections that name no request, a lost job.result after a
 * resume). Every capture must give records without a crash, with true evidence, and right.
 */
const tape = tapeDir();
const docs = new Map<string, RecordsDocument>();
const scenario = (name: string) => docs.get(name)!.records;
const jobs = (name: string, agent?: string) => scenario(name).filter((r) => r.kind === 'job' && (!agent || r.event.action === `job:${agent}`));
const of = (name: string, kind: string) => scenario(name).filter((r) => r.kind === kind);
const attr = (r: ArcpRecord, k: string) => r.event.attributes?.[k];

beforeAll(async () => {
  // Two through the CLI, as a user would; the rest through the same library call, for time.
  for (const f of ['submit-stream.jsonl', 'subscribe.jsonl']) {
    const r = await arcp(['tape', 'import', '--jsonl', join(CAPTURES_DIR, f), '--tape', tape(f.replace('.jsonl', '.tape'))]);
    expect(r.exitCode, r.stderr).toBe(0);
  }
  for (const f of captureFiles().filter((x) => x !== 'submit-stream.jsonl' && x !== 'subscribe.jsonl')) await importJsonl({ source: join(CAPTURES_DIR, f), tape: tape(f.replace('.jsonl', '.tape')), redaction: redactionRules({}) });
  for (const f of captureFiles()) docs.set(f.replace('.jsonl', ''), deriveRecords(tape(f.replace('.jsonl', '.tape'))));
}, 60_000);

describe('records of the peer captures', () => {
  it('every capture gives records whose evidence is true of its tape, the same each time', () => {
    expect(docs.size).toBe(captureFiles().length);
    for (const [name, doc] of docs) {
      expect(falseEvidence(doc, tape(`${name}.tape`)), name).toEqual([]);
      expect(JSON.stringify(deriveRecords(tape(`${name}.tape`))), name).toBe(JSON.stringify(doc));
    }
  });

  it('a refusal the runtime sent without a tool_call is still a tool record, its tool named from the refusal', () => {
    const denied = of('submit-stream', 'tool').find((r) => r.event.status === 'error')!;
    expect(denied.event).toMatchObject({ action: 'tool:shell.exec', inputs: { call_id: 'c2' }, error: { code: 'PERMISSION_DENIED' } });
    expect(attr(denied, 'arcp.notes')).toMatch(/no tool_call announced this call/);
  });

  it('budget: BUDGET_EXHAUSTED after the remaining budget went negative', () => {
    const [job] = jobs('cost-budget', 'budget');
    expect(job.event).toMatchObject({ status: 'error', error: { code: 'BUDGET_EXHAUSTED' }, attributes: { 'arcp.budget.USD': 1, 'arcp.budget_remaining.USD': -0.2 } });
    const calls = of('cost-budget', 'tool');
    expect(calls.at(-1)!.event.error?.code).toBe('BUDGET_EXHAUSTED');
    expect(calls.slice(0, -1).every((c) => c.event.status === 'ok' && attr(c, 'arcp.cost.USD') === 0.3)).toBe(true);
  });

  it('a subscriber\'s refused cancel is its own record, not the job\'s end; the job ends with its result', () => {
    const [ticker] = jobs('subscribe', 'ticker');
    expect(ticker.event).toMatchObject({ status: 'ok', output: { ticks: 8 } });
    const [cancel] = of('subscribe', 'cancel');
    expect(cancel.event).toMatchObject({ status: 'error', correlationId: ticker.job, error: { code: 'PERMISSION_DENIED' } });
    expect(attr(cancel, 'arcp.session_id')).not.toBe(attr(ticker, 'arcp.session_id'));
    expect(attr(cancel, 'arcp.job_session_id')).toBe(attr(ticker, 'arcp.session_id'));
  });

  it('a job whose result the runtime lost after a resume has no outcome, and says so', () => {
    const [job] = jobs('resume-midjob', 'ticker');
    expect(job.event).toMatchObject({ status: 'error', error: { name: 'NoOutcome' }, attributes: { 'arcp.outcome': 'none' } });
    expect(job.event.error!.message).toMatch(/^the tape holds no outcome of job job_\w+; last seen at seq \d+$/);
  });

  it('idempotency: the same job accepted again is a resubmit; conflicting keys are rejected submits; a repeated envelope id goes unanswered', () => {
    const [first, conflictB, conflictA, dup, repeat] = jobs('idempotency');
    expect(first.event).toMatchObject({ status: 'ok', attributes: { 'arcp.resubmits': 1 } });
    for (const r of [conflictB, conflictA]) expect(r.event).toMatchObject({ status: 'error', correlationId: first.job, error: { code: 'DUPLICATE_KEY' }, attributes: { 'arcp.outcome': 'rejected', 'arcp.answer_matched_by': 'order' } });
    expect(attr(conflictB, 'arcp.session_id')).not.toBe(attr(conflictA, 'arcp.session_id'));
    expect(dup.event.status).toBe('ok');
    expect(repeat.event).toMatchObject({ status: 'error', error: { name: 'NoAnswer', message: expect.stringMatching(/repeats the envelope id of the job\.submit at seq \d+/) } });
  });

  it('v1.0 forms and rejections: the submits the peer dropped say how they differ from the draft', () => {
    const records = jobs('errors');
    const unanswered = records.filter((r) => attr(r, 'arcp.outcome') === 'unanswered');
    expect(unanswered.map((r) => r.event.error!.message)).toEqual([
      expect.stringMatching(/never answered this job\.submit; it departs from the v1\.1 draft \(trace_id is a full traceparent/),
      expect.stringMatching(/never answered this job\.submit; it departs from the v1\.1 draft \(arcp version "1\.0"/),
    ]);
    const noAgent = records.find((r) => r.event.action === 'job:?')!;
    expect(noAgent.event).toMatchObject({ status: 'error', error: { code: 'INVALID_REQUEST' }, attributes: { 'arcp.outcome': 'rejected' } });
    expect(of('errors', 'cancel')[0].event).toMatchObject({ status: 'error', error: { code: 'JOB_NOT_FOUND' } });
    const versions = jobs('agent-versions');
    expect(versions.map((r) => [r.event.action, r.event.status, r.event.error?.code])).toEqual([
      ['job:refactor@2.0.0', 'ok', undefined],
      ['job:refactor@1.0.0', 'ok', undefined],
      ['job:refactor@3.0.0', 'error', 'AGENT_VERSION_NOT_AVAILABLE'],
      ['job:nope', 'error', 'AGENT_NOT_AVAILABLE'],
      ['job:Bad_Name', 'error', 'INVALID_REQUEST'],
    ]);
  });

  it('delegation, cancel, timeout, lease expiry, streamed results and stdio read right', () => {
    const [ok, refused] = of('delegate', 'delegation');
    expect(ok.event).toMatchObject({ status: 'ok', output: { result: { passed: 127, failed: 0 } } });
    expect(refused.event.error?.code).toBe('LEASE_SUBSET_VIOLATION');
    expect(jobs('cancel', 'slow')[0].event.error?.code).toBe('CANCELLED');
    expect(of('cancel', 'cancel')[0].event).toMatchObject({ status: 'ok', output: { cancelled: true, reason: 'user wants to stop' } });
    expect(jobs('timeout')[0].event).toMatchObject({ error: { code: 'TIMEOUT' }, attributes: { 'arcp.final_status': 'timed_out', 'arcp.retryable': true } });
    expect(jobs('lease-expiry')[0].event.error?.code).toBe('LEASE_EXPIRED');
    const [streamed] = jobs('result-chunk', 'report');
    expect(streamed.event).toMatchObject({ status: 'ok', output: { result_size: 319507, summary: 'report with 40 chunks' }, attributes: { 'arcp.result_chunks': 40 } });
    expect(streamed.evidence.fields.output).toHaveLength(41);
    expect(jobs('stdio').map((r) => r.event.output)).toEqual([{ echoed: { via: 'stdio' } }, { indexed: 3 }]);
  });

  it('credentials and bearer tokens of the capture stay out of the records', () => {
    const raw = captureFiles().flatMap((f) => readCapture(f)).map((l) => (l.frame ?? {}) as { payload?: { credentials?: { value: string }[] } });
    const values = raw.flatMap((f) => f.payload?.credentials?.map((c) => c.value) ?? []);
    expect(values.length).toBeGreaterThan(0);
    const all = JSON.stringify([...docs.values()]);
    for (const v of values) expect(all).not.toContain(v);
    expect(attr(jobs('credentials', 'llm')[0], 'arcp.credentials')).toMatch(/^cred_\w+ \(bearer\)$/);
    expect([...docs.values()].flatMap((d) => d.records).every((r) => (attr(r, 'arcp.principal') ?? 'bearer [arcp-redacted:1]').toString().match(/^bearer \[arcp-redacted:\d\]$/))).toBe(true);
  });

  it('a tape recorded with --no-redact still gives records without a credential in clear', async () => {
    const path = tape('credentials-clear.tape');
    await importJsonl({ source: join(CAPTURES_DIR, 'credentials.jsonl'), tape: path, redaction: redactionRules({ redact: false }) });
    const doc = deriveRecords(path);
    const [job] = doc.records;
    expect(attr(job, 'arcp.principal')).toMatch(/^bearer \[withheld sha256:[0-9a-f]{16}\]$/);
    const value = (readCapture('credentials.jsonl').find((l) => (l.frame as { type?: string })?.type === 'job.accepted')!.frame as { payload: { credentials: { value: string }[] } }).payload.credentials[0].value;
    expect(JSON.stringify(doc)).not.toContain(value);
  });
});
