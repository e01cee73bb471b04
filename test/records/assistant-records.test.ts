import { beforeAll, describe, expect, it } from 'vitest';
import { RecordsDocument, type ArcpRecord } from '../../src/records/schema.js';
import { arcp } from '../helpers/cli.js';
import { tapeDir } from '../helpers/tape.js';
import { falseEvidence } from './evidence-check.js';
import { freePort, recordCli, serveCli, startCli } from './processes.js';

/**
 * A real recording of the tool-using LLM agent (`assistant`), every piece a process of its own:
 * `arcp llm serve` (the scripted model), `arcp serve` (the runtime hosting the agent, calling
 * the model through the recorder), `arcp record` in front of both, `arcp submit` as the client.
 * The records must tell the agent's whole story, each step tied to the job and to the next.
 */
const tape = tapeDir()('assistant.tape');
const TASK = 'What is the total for 3 items at 17.50 each plus 8% tax?';
const LLM_KEY = 'sk-proj-ASSISTANTKEY-0a1b2c3d4e5f';
let doc: RecordsDocument;
let jobId = '';

beforeAll(async () => {
  const model = await startCli(['llm', 'serve', '--script', 'demo']);
  const httpPort = await freePort();
  const serve = await serveCli(['--token', 'tok=alice', '--llm-url', `http://127.0.0.1:${httpPort}/llm`, '--llm-key', LLM_KEY]);
  const rec = await recordCli(['--upstream', serve.url, '--http', `/llm=${model.url}`, '--http-port', String(httpPort), '--tape', tape]);
  const r = await arcp(['submit', '--url', rec.ws!, '--token', 'tok', '--agent', 'assistant', '--input', JSON.stringify({ task: TASK }), '--lease', '{"tool.call":["calculator"],"fs.read":["/**"]}', '--json']);
  expect(r.exitCode, r.stderr).toBe(0);
  jobId = JSON.parse(r.stdout.split('\n')[0]).payload.job_id;
  await rec.stop();
  await Promise.all([serve.stop(), model.stop()]);
  const j = await arcp(['tape', 'records', tape, '--json']);
  expect(j.exitCode, j.stderr).toBe(0);
  doc = RecordsDocument.parse(JSON.parse(j.stdout));
}, 90_000);

const kind = (k: string) => doc.records.filter((r) => r.kind === k);
const message = (r: ArcpRecord) => (r.event.output as { choices: { message: { content: string | null; tool_calls?: { id: string; function: { name: string; arguments: string } }[] } }[] }).choices[0].message;

describe('records of the tool-using LLM agent, recorded end to end', () => {
  it('the job: the task as its intent\'s input, the model\'s last answer as its result', () => {
    const [job] = kind('job');
    expect(job.event).toMatchObject({ status: 'ok', action: 'job:assistant', correlationId: jobId, inputs: { input: { task: TASK } }, output: { answer: 'The total is 56.7.', turns: 4 } });
  });

  it('each model call tied to the job by its headers, each tool call the model asked for a record of its own', () => {
    const llm = kind('llm');
    const tools = kind('tool');
    expect(llm).toHaveLength(4);
    expect(tools).toHaveLength(3);
    for (const r of [...llm, ...tools]) expect(r.event.correlationId).toBe(jobId);
    expect(llm.map((r) => r.event.attributes?.['arcp.correlated_by'])).toEqual(['arcp-job-id', 'arcp-job-id', 'arcp-job-id', 'arcp-job-id']);
    expect(llm.every((r) => r.event.attributes?.['arcp.trace_id'] === kind('job')[0].event.attributes?.['arcp.trace_id'])).toBe(true);
    // What the model asked for is what the agent called: the reassembled tool calls against the tool records.
    for (let i = 0; i < 3; i++) {
      const call = message(llm[i]).tool_calls![0];
      expect(tools[i].event).toMatchObject({ status: 'ok', action: `tool:${call.function.name}`, inputs: { args: JSON.parse(call.function.arguments), call_id: call.id } });
    }
    expect(tools.map((t) => t.event.output)).toEqual([{ value: 52.5 }, { value: 4.2 }, { value: 56.7 }]);
    expect(message(llm[3]).content).toBe('The total is 56.7.');
  });

  it('what each tool returned is what the next model call was told: a chain of evidence across frames', () => {
    const llm = kind('llm');
    const tools = kind('tool');
    for (let i = 0; i < 3; i++) {
      const told = JSON.stringify((llm[i + 1].event.inputs as { body: { messages: unknown[] } }).body.messages.at(-1));
      expect(told).toContain(JSON.stringify(JSON.stringify(tools[i].event.output)).slice(1, -1));
      expect(llm[i + 1].evidence.fields.startedAt[0].seq).toBeGreaterThan(tools[i].evidence.fields.completedAt[0].seq);
    }
  });

  it('the agent\'s API key stays a placeholder; every evidence link is true', () => {
    expect(JSON.stringify(doc)).not.toContain(LLM_KEY);
    for (const r of kind('llm')) expect((r.event.inputs as { headers: [string, string][] }).headers.find(([k]) => k.toLowerCase() === 'authorization')?.[1]).toMatch(/\[arcp-redacted:\d+\]/);
    expect(falseEvidence(doc, tape)).toEqual([]);
  });
});
