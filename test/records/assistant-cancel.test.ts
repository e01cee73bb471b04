import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { ArcpClient } from '../../src/client/client.js';
import type { ArcpError } from '../../src/engine/errors.js';
import { RecordsDocument } from '../../src/records/schema.js';
import { arcp } from '../helpers/cli.js';
import { until } from '../helpers/runtime.js';
import { tapeDir } from '../helpers/tape.js';
import { falseEvidence } from './evidence-check.js';
import { freePort, recordCli, serveCli } from './processes.js';
import { scriptedLlm, textAnswer, type ScriptedLlm } from './scripted-llm.js';

/**
 * The tool-using LLM agent cancelled while its model is still streaming the answer, recorded end
 * to end (a slow scripted model, `arcp serve`, `arcp record`, a client over a real socket): the
 * job ends CANCELLED, the cancel is its own record, and the model call the cancel cut short is an
 * error record holding what had arrived before the cut.
 */
const tape = tapeDir()('assistant-cancel.tape');
const MODEL = 'gpt-4o-mini';
const TEXT = 'Let me think about this for quite a long while before answering you.';
let llm: ScriptedLlm;
let doc: RecordsDocument;
let jobId = '';

beforeAll(async () => {
  llm = await scriptedLlm([textAnswer(MODEL, TEXT)], 150);
  const httpPort = await freePort();
  const serve = await serveCli(['--token', 'tok=alice', '--llm-url', `http://127.0.0.1:${httpPort}/llm`, '--llm-key', 'sk-cancel-key-0987654321']);
  try {
    const rec = await recordCli(['--upstream', serve.url, '--http', `/llm=${llm.url}`, '--http-port', String(httpPort), '--tape', tape]);
    const client = await ArcpClient.connect(rec.ws!, { token: 'tok', requestTimeoutMs: 10_000 });
    try {
      const h = client.submit({ agent: 'assistant', input: { task: 'Think slowly.' } });
      await h.acceptedP;
      jobId = h.jobId!;
      // Four chunks written: the role and three pieces of text, the rest still to come.
      await until(() => llm.chunksWritten >= 4, 10_000, 'the model streaming its answer');
      client.cancel(jobId, 'taking too long');
      expect(await h.done.catch((e: ArcpError) => e.code)).toBe('CANCELLED');
    } finally {
      await client.close();
    }
    expect((await rec.stop()).exitCode).toBe(0);
  } finally {
    await serve.stop();
  }
  const j = await arcp(['tape', 'records', tape, '--json']);
  expect(j.exitCode, j.stderr).toBe(0);
  doc = RecordsDocument.parse(JSON.parse(j.stdout));
}, 90_000);
afterAll(() => llm?.close());

describe('records of the LLM agent cancelled mid-answer', () => {
  it('the job ends CANCELLED and the cancel is a record of its own, with its reason', () => {
    const job = doc.records.find((r) => r.kind === 'job')!;
    expect(job.event).toMatchObject({ status: 'error', action: 'job:assistant', correlationId: jobId, error: { code: 'CANCELLED' }, attributes: { 'arcp.final_status': 'cancelled' } });
    const cancel = doc.records.find((r) => r.kind === 'cancel')!;
    expect(cancel.event).toMatchObject({ status: 'ok', correlationId: jobId, intent: `cancel job ${jobId}: taking too long` });
  });

  it('the model call the cancel cut short is an error record tied to the job, holding what had arrived', () => {
    const calls = doc.records.filter((r) => r.kind === 'llm');
    expect(calls).toHaveLength(1);
    expect(calls[0].event).toMatchObject({ status: 'error', correlationId: jobId, error: { name: 'TransportError' }, attributes: { 'arcp.correlated_by': 'arcp-job-id' } });
    // What the agent had received when it let go: a start of the answer, never the whole, never finished.
    const { content, finish } = (({ choices: [c] }) => ({ content: c.message.content, finish: c.finish_reason }))(calls[0].event.output as { choices: { message: { content: string }; finish_reason: string | null }[] });
    expect(content.length).toBeGreaterThanOrEqual(8);
    expect(TEXT.startsWith(content) && content !== TEXT).toBe(true);
    expect(finish).toBeNull();
    expect(falseEvidence(doc, tape)).toEqual([]);
  });
});
