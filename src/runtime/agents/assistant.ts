import { Agent } from 'undici';
import { ArcpError } from '../../engine/errors.js';
import type { ChatMessage } from '../../llm/dialect.js';
import { DIALECTS } from '../../llm/dialects.js';
import type { AgentDefinition } from '../agent.js';
import { opt } from './input.js';
import { callModel } from './llm-client.js';
import { ASSISTANT_TOOLS } from './tools.js';

/** Where the assistant finds its model (`arcp serve --llm-url`, `$ARCP_LLM_URL`). */
export interface LlmSettings {
  url?: string;
  api: keyof typeof DIALECTS;
  model: string;
  key?: string;
}

export const DEFAULT_LLM: LlmSettings = { api: 'openai', model: 'gpt-4o-mini' };
const SYSTEM = 'You are a careful assistant. Use the tools for arithmetic and for reading files; answer briefly.';

/**
 * `assistant`: a tool-using agent loop against an LLM API over HTTP (streamed). Each model turn
 * that calls tools becomes one `thought` (the model's text) and a `tool_call` + `tool_result` per
 * call, each authorized by the lease; the turn without calls is the answer, the `job.result`.
 * Every request carries the job's `traceparent` and id, so a recording links it to the job.
 */
export function assistantAgent(settings: () => LlmSettings | undefined): AgentDefinition {
  let dispatcher: Agent | undefined;
  return {
    name: 'assistant',
    run: async (ctx) => {
      const s = settings();
      if (!s?.url) throw new ArcpError('INVALID_REQUEST', 'the assistant agent has no LLM: start the runtime with --llm-url URL (or $ARCP_LLM_URL)');
      const task = opt(ctx.input, 'task', '');
      if (!task) throw new ArcpError('INVALID_REQUEST', 'the assistant needs input {"task": "…"}');
      const maxTurns = opt(ctx.input, 'max_turns', 8);
      const model = opt(ctx.input, 'model', s.model);
      if (ctx.lease['model.use']) ctx.useModel(model);
      const dialect = DIALECTS[s.api];
      dispatcher ??= new Agent({ keepAliveTimeout: 1000 });
      const messages: ChatMessage[] = [
        { role: 'system', text: opt(ctx.input, 'system', SYSTEM) },
        { role: 'user', text: task },
      ];
      const tools = [...ASSISTANT_TOOLS.values()].map((t) => t.spec);
      const usage = { input: 0, output: 0 };
      for (let n = 1; n <= maxTurns; n++) {
        const turn = await callModel({ base: s.url, dialect, body: dialect.requestBody({ model, messages, tools, stream: true }), key: s.key, jobId: ctx.jobId, traceId: ctx.traceId, signal: ctx.signal, dispatcher });
        usage.input += turn.usage?.input ?? 0;
        usage.output += turn.usage?.output ?? 0;
        messages.push({ role: 'assistant', turn });
        if (!turn.toolCalls.length) return { answer: turn.text, turns: n, model, usage };
        if (turn.text) ctx.thought(turn.text);
        for (const call of turn.toolCalls) {
          const tool = ASSISTANT_TOOLS.get(call.name);
          let args: Record<string, unknown> = {};
          try {
            const parsed: unknown = JSON.parse(call.arguments || '{}');
            if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) args = parsed as Record<string, unknown>;
          } catch {
            // the model wrote arguments that are not JSON: the tool says so
          }
          let content: string;
          let isError = false;
          try {
            const result = await ctx.toolCall(call.name, args, () => (tool ? tool.run(args) : { error: `there is no tool named ${call.name}` }), { callId: call.id || undefined, capability: tool?.capability, target: tool?.target(args) });
            content = JSON.stringify(result);
            isError = typeof result === 'object' && result !== null && 'error' in result;
          } catch (e) {
            // A lease denial is told to the model, as a person would be told; cancellation ends the job.
            if (!(e instanceof ArcpError) || e.code === 'CANCELLED' || e.code === 'LEASE_EXPIRED') throw e;
            content = JSON.stringify({ error: `${e.code}: ${e.message}` });
            isError = true;
          }
          messages.push({ role: 'tool', callId: call.id, name: call.name, content, isError });
        }
      }
      throw new ArcpError('INTERNAL_ERROR', `the model gave no answer in ${maxTurns} turns`, { turns: maxTurns }, false);
    },
  };
}
