import { writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { RecordsDocument } from '../../src/records/schema.js';
import { arcp } from '../helpers/cli.js';
import { tapeDir } from '../helpers/tape.js';
import { falseEvidence } from './evidence-check.js';
import { freePort, recordCli, serveCli, startCli } from './processes.js';

/**
 * The tool-using LLM agent asked by its model for a tool call its lease does not allow, recorded
 * end to end (`arcp llm serve` with a script, `arcp serve`, `arcp record`, `arcp submit`): the
 * refusal is a tool record of its own with the runtime's code, the model is told, and the job
 * still ends with the model's answer. `--verify` holds over the tape.
 */
const file = tapeDir();
const tape = file('denied.tape');
let doc: RecordsDocument;

beforeAll(async () => {
  const script = file('script.json');
  writeFileSync(script, JSON.stringify({
    model: 'scripted-denied-1',
    replies: [
      { when: { turn: 1 }, say: 'Reading it.', calls: [{ name: 'read_file', arguments: { path: '/etc/hostname' } }] },
      { when: { after_tool: 'read_file' }, say: 'I may not read that file.' },
    ],
  }));
  const model = await startCli(['llm', 'serve', '--script', script]);
  const httpPort = await freePort();
  const serve = await serveCli(['--token', 'tok=alice', '--llm-url', `http://127.0.0.1:${httpPort}/llm`, '--llm-key', 'sk-denied-key-1234567890']);
  try {
    const rec = await recordCli(['--upstream', serve.url, '--http', `/llm=${model.url}`, '--http-port', String(httpPort), '--tape', tape]);
    const r = await arcp(['submit', '--url', rec.ws!, '--token', 'tok', '--agent', 'assistant', '--input', '{"task":"What is in /etc/hostname?"}', '--lease', '{"tool.call":["read_file"],"fs.read":["/workspace/**"]}', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await rec.stop()).exitCode).toBe(0);
  } finally {
    await Promise.all([serve.stop(), model.stop()]);
  }
  doc = RecordsDocument.parse(JSON.parse((await arcp(['tape', 'records', tape, '--json'])).stdout));
}, 90_000);

describe('records of the LLM agent refused a tool by its lease', () => {
  it('the refused call is an error record with PERMISSION_DENIED and the lease that bounded it; the job ends ok with the answer', () => {
    const [job] = doc.records.filter((r) => r.kind === 'job');
    const tools = doc.records.filter((r) => r.kind === 'tool');
    expect(tools).toHaveLength(1);
    expect(tools[0].event).toMatchObject({ status: 'error', action: 'tool:read_file', inputs: { args: { path: '/etc/hostname' } }, error: { code: 'PERMISSION_DENIED' }, correlationId: job.job });
    expect(tools[0].event.attributes).toMatchObject({ 'arcp.lease': '{"tool.call":["read_file"],"fs.read":["/workspace/**"]}' });
    expect(job.event).toMatchObject({ status: 'ok', output: { answer: 'I may not read that file.' } });
  });

  it('the model was told of the refusal: the next LLM record\'s request carries it', () => {
    const llm = doc.records.filter((r) => r.kind === 'llm');
    expect(llm).toHaveLength(2);
    expect(JSON.stringify((llm[1].event.inputs as { body: unknown }).body)).toMatch(/PERMISSION_DENIED/);
    expect(falseEvidence(doc, tape)).toEqual([]);
  });

  it('the records verify against the tape', async () => {
    const out = file('denied.records.json');
    expect((await arcp(['tape', 'records', tape, '-o', out])).exitCode).toBe(0);
    const v = await arcp(['tape', 'records', '--verify', out, tape]);
    expect(v.exitCode, v.stdout).toBe(0);
  }, 30_000);
});
