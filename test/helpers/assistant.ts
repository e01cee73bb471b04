import { record } from '../../src/record/recorder.js';
import type { LlmSettings } from '../../src/runtime/agents/assistant.js';
import { connect } from './runtime.js';

export const TASK = 'What is the total for 3 items at 17.50 each plus 8% tax?';

/**
 * Records one run of the assistant into `tape`: a client through the WebSocket recorder to the
 * runtime at `runtime`, whose LLM calls (it reads `settings` at each job) go through the HTTP
 * recorder to `llm`.
 */
export async function recordAssistant(tape: string, runtime: string, settings: LlmSettings, llm: string): Promise<void> {
  const rec = await record({ tape, ws: { upstream: runtime }, http: { routes: [{ prefix: '/llm', upstream: llm }] } });
  settings.url = rec.addresses.http + '/llm';
  const c = await connect(rec.addresses.ws!);
  await c.submit({ agent: 'assistant', input: { task: TASK }, lease_request: { 'tool.call': ['calculator'], 'fs.read': ['/**'] } }).done;
  await c.close();
  await rec.stop();
}
