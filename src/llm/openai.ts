import { z } from 'zod';
import { cutsOf, cutText, isObject, templateOf, type Assembled, type ChatMessage, type Layout, type LlmDialect, type ParsedRequest, type ToolCall, type Turn } from './dialect.js';
import type { SseEvent } from './sse.js';

/** The assembled answer a user edits: the chat message, with the choice's finish_reason beside it. */
const Doc = z.object({
  role: z.literal('assistant').optional(),
  content: z.string().nullable().optional(),
  tool_calls: z
    .array(z.object({ id: z.string(), type: z.literal('function').optional(), function: z.object({ name: z.string().min(1), arguments: z.union([z.string(), z.record(z.string(), z.unknown())]) }) }))
    .optional(),
  finish_reason: z.string().optional(),
});

const Content = z.union([z.string(), z.array(z.looseObject({ type: z.string(), text: z.string().optional() })), z.null()]).optional();
const RequestMessage = z.looseObject({
  role: z.string(),
  content: Content,
  tool_calls: z.array(z.looseObject({ id: z.string(), function: z.looseObject({ name: z.string(), arguments: z.string() }) })).optional(),
  tool_call_id: z.string().optional(),
});
const Request = z.looseObject({ model: z.string().optional(), stream: z.boolean().optional(), messages: z.array(RequestMessage) });

const textOf = (c: z.infer<typeof Content>): string => (typeof c === 'string' ? c : Array.isArray(c) ? c.map((p) => p.text ?? '').join('') : '');

/** Keeps `base`'s keys in their order, with `over`'s values where given (new keys at the end). */
function framed(base: Record<string, unknown> | undefined, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(base ?? {})) out[k] = k in over ? over[k] : base![k];
  for (const k of Object.keys(over)) if (!(k in out)) out[k] = over[k];
  return out;
}

/** Normalises a finish reason to the calls the turn really has. */
function stopFor(stop: string | undefined, calls: ToolCall[]): string {
  if (calls.length && (stop === undefined || stop === 'stop')) return 'tool_calls';
  if (!calls.length && (stop === undefined || stop === 'tool_calls')) return 'stop';
  return stop ?? 'stop';
}

function docOf(turn: Turn): Record<string, unknown> {
  const doc: Record<string, unknown> = { role: 'assistant', content: turn.text || null };
  if (turn.toolCalls.length) doc.tool_calls = turn.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
  doc.finish_reason = turn.stop;
  return doc;
}

function usageOf(u: unknown): Turn['usage'] {
  if (!isObject(u)) return undefined;
  const input = Number(u.prompt_tokens ?? 0);
  const output = Number(u.completion_tokens ?? 0);
  return Number.isInteger(input) && Number.isInteger(output) ? { input, output } : undefined;
}

/** OpenAI-compatible chat completions (`POST {base}/chat/completions`), streamed as `data:` chunks ending in `[DONE]`. */
export const openai: LlmDialect = {
  name: 'openai',
  endpoint: '/chat/completions',

  requestBody({ model, messages, tools, stream }) {
    const body: Record<string, unknown> = { model, stream };
    if (stream) body.stream_options = { include_usage: true };
    body.messages = messages.map((m) => {
      if (m.role === 'system' || m.role === 'user') return { role: m.role, content: m.text };
      if (m.role === 'tool') return { role: 'tool', tool_call_id: m.callId, content: m.content };
      if (m.role !== 'assistant') return {};
      const out: Record<string, unknown> = { role: 'assistant', content: m.turn.text || null };
      if (m.turn.toolCalls.length) out.tool_calls = m.turn.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
      return out;
    });
    if (tools.length) body.tools = tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } }));
    return body;
  },

  requestHeaders(key) {
    return { 'content-type': 'application/json', accept: 'text/event-stream', ...(key ? { authorization: `Bearer ${key}` } : {}) };
  },

  parseRequest(body): ParsedRequest {
    const r = Request.parse(body);
    const names = new Map<string, string>();
    const messages: ChatMessage[] = r.messages.map((m): ChatMessage => {
      if (m.role === 'assistant') {
        const toolCalls = (m.tool_calls ?? []).map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments }));
        for (const c of toolCalls) names.set(c.id, c.name);
        return { role: 'assistant', turn: { text: textOf(m.content), toolCalls, stop: toolCalls.length ? 'tool_calls' : 'stop' } };
      }
      if (m.role === 'tool') return { role: 'tool', callId: m.tool_call_id ?? '', name: names.get(m.tool_call_id ?? '') ?? '', content: textOf(m.content) };
      return { role: m.role === 'system' || m.role === 'developer' ? 'system' : 'user', text: textOf(m.content) };
    });
    return { model: r.model, stream: r.stream === true, messages };
  },

  assemble(events: SseEvent[]): Assembled {
    const text: string[] = [];
    const calls: { id: string; name: string; args: string[] }[] = [];
    let stop: string | undefined;
    let usage: Turn['usage'];
    let meta: Layout['meta'];
    for (const e of events) {
      if (e.data === '[DONE]') continue;
      let chunk: unknown;
      try {
        chunk = JSON.parse(e.data);
      } catch {
        throw new Error(`a stream event is not JSON: ${e.data.slice(0, 60)}`);
      }
      if (!isObject(chunk)) continue;
      meta ??= { id: String(chunk.id ?? ''), model: String(chunk.model ?? ''), created: Number(chunk.created ?? 0) };
      if (chunk.usage) usage = usageOf(chunk.usage);
      const choice = Array.isArray(chunk.choices) ? chunk.choices.find((c) => isObject(c) && (c.index ?? 0) === 0) : undefined;
      if (!isObject(choice)) continue;
      if (typeof choice.finish_reason === 'string') stop = choice.finish_reason;
      const delta = choice.delta;
      if (!isObject(delta)) continue;
      if (typeof delta.content === 'string' && delta.content) text.push(delta.content);
      for (const tc of Array.isArray(delta.tool_calls) ? delta.tool_calls : []) {
        if (!isObject(tc)) continue;
        const i = typeof tc.index === 'number' ? tc.index : calls.length;
        const call = (calls[i] ??= { id: '', name: '', args: [] });
        if (typeof tc.id === 'string') call.id = tc.id;
        const fn = isObject(tc.function) ? tc.function : {};
        if (typeof fn.name === 'string') call.name += fn.name;
        if (typeof fn.arguments === 'string' && fn.arguments) call.args.push(fn.arguments);
      }
    }
    const toolCalls = calls.filter(Boolean).map((c) => ({ id: c.id, name: c.name, arguments: c.args.join('') }));
    const turn: Turn = { text: text.join(''), toolCalls, stop: stop ?? stopFor(undefined, toolCalls), usage };
    return { doc: docOf(turn), turn, layout: { cuts: [cutsOf(text), ...calls.filter(Boolean).map((c) => cutsOf(c.args))], template: templateOf(events), meta } };
  },

  fromJson(body): Assembled {
    if (!isObject(body) || !Array.isArray(body.choices) || !isObject(body.choices[0]) || !isObject(body.choices[0].message)) {
      throw new Error('the response is not a chat completion (no choices[0].message)');
    }
    const choice = body.choices[0] as Record<string, unknown>;
    const m = RequestMessage.parse(choice.message);
    const toolCalls = (m.tool_calls ?? []).map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments }));
    const turn: Turn = { text: textOf(m.content), toolCalls, stop: typeof choice.finish_reason === 'string' ? choice.finish_reason : stopFor(undefined, toolCalls), usage: usageOf(body.usage) };
    return { doc: docOf(turn), turn, layout: { cuts: [], template: [{ json: body, raw: JSON.stringify(body) }], meta: { id: String(body.id ?? ''), model: String(body.model ?? ''), created: Number(body.created ?? 0) } } };
  },

  turnOf(doc, was): Turn {
    const r = Doc.safeParse(doc);
    if (!r.success) {
      const i = r.error.issues[0];
      throw new Error(`the edited message does not fit a chat completion message (/${i.path.join('/')}: ${i.message})`);
    }
    const toolCalls = (r.data.tool_calls ?? []).map((c, i) => {
      const args = c.function.arguments;
      const before = was?.toolCalls[i];
      // An object is the user's shorthand; the original text is kept when the edit left it equal.
      const text = typeof args === 'string' ? args : before && sameJson(before.arguments, args) ? before.arguments : JSON.stringify(args);
      return { id: c.id, name: c.function.name, arguments: text };
    });
    return { text: r.data.content ?? '', toolCalls, stop: stopFor(r.data.finish_reason, toolCalls), usage: was?.usage };
  },

  render(turn, layout) {
    const chunks = (layout.template ?? []).map((t) => t.json).filter(isObject);
    const withChoice = chunks.filter((c) => Array.isArray(c.choices) && isObject(c.choices[0]));
    const base = withChoice[0] ?? (layout.meta ? { id: layout.meta.id, object: 'chat.completion.chunk', created: layout.meta.created, model: layout.meta.model, choices: [] } : {});
    const choiceBase = (withChoice[0]?.choices as Record<string, unknown>[] | undefined)?.[0];
    const deltaOf = (pick: (d: Record<string, unknown>) => boolean) => withChoice.map((c) => (c.choices as Record<string, unknown>[])[0].delta).find((d) => isObject(d) && pick(d)) as Record<string, unknown> | undefined;
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) => framed(base, { choices: [framed(choiceBase ?? { index: 0, delta: {}, finish_reason: null }, { index: 0, delta, finish_reason: finish })] });
    const out: (Record<string, unknown> | string)[] = [];
    out.push(chunk(deltaOf((d) => 'role' in d) ?? { role: 'assistant', content: '' }));
    for (const piece of cutText(turn.text, layout.cuts[0] ?? [])) out.push(chunk({ content: piece }));
    turn.toolCalls.forEach((c, i) => {
      out.push(chunk({ tool_calls: [{ index: i, id: c.id, type: 'function', function: { name: c.name, arguments: '' } }] }));
      const cuts = layout.cuts[i + 1] ?? layout.cuts[layout.cuts.length - 1] ?? [];
      for (const piece of cutText(c.arguments, cuts)) out.push(chunk({ tool_calls: [{ index: i, function: { arguments: piece } }] }));
    });
    out.push(chunk({}, turn.stop));
    const usageChunk = layout.template?.find((t) => isObject(t.json) && Array.isArray(t.json.choices) && t.json.choices.length === 0 && isObject(t.json.usage));
    if (usageChunk) out.push(usageChunk.raw);
    else if (!layout.template && turn.usage) out.push(framed(base, { choices: [], usage: { prompt_tokens: turn.usage.input, completion_tokens: turn.usage.output, total_tokens: turn.usage.input + turn.usage.output } }));
    const events = out.map((c) => ({ data: typeof c === 'string' ? c : JSON.stringify(c) }));
    if (!layout.template || layout.template.some((t) => t.json === '[DONE]')) events.push({ data: '[DONE]' });
    return events;
  },

  renderJson(turn, meta, template) {
    const base = isObject(template) ? template : { id: meta.id, object: 'chat.completion', created: meta.created, model: meta.model, choices: [], usage: null };
    const choiceBase = Array.isArray(base.choices) && isObject(base.choices[0]) ? base.choices[0] : { index: 0, message: {}, logprobs: null, finish_reason: null };
    const { finish_reason: _f, ...message } = docOf(turn);
    const usage = turn.usage ? { prompt_tokens: turn.usage.input, completion_tokens: turn.usage.output, total_tokens: turn.usage.input + turn.usage.output } : null;
    return framed(base, { choices: [framed(choiceBase, { message, finish_reason: turn.stop })], ...(isObject(template) ? {} : { usage }) });
  },

  stopReason: (withCalls) => (withCalls ? 'tool_calls' : 'stop'),

  errorBody(message, type) {
    return { error: { message, type, param: null, code: null } };
  },
};

export function sameJson(text: string, value: unknown): boolean {
  try {
    return JSON.stringify(JSON.parse(text)) === JSON.stringify(value);
  } catch {
    return false;
  }
}
