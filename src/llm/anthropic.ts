import { z } from 'zod';
import { cutsOf, cutText, isObject, templateOf, type Assembled, type ChatMessage, type Layout, type LlmDialect, type ParsedRequest, type ToolCall, type Turn } from './dialect.js';
import { sameJson } from './openai.js';
import type { SseEvent } from './sse.js';

const Block = z.union([
  z.looseObject({ type: z.literal('text'), text: z.string() }),
  z.looseObject({ type: z.literal('tool_use'), id: z.string(), name: z.string().min(1), input: z.unknown() }),
]);
/** The assembled answer a user edits: the Messages API response's `content` blocks and `stop_reason`. */
const Doc = z.object({ role: z.literal('assistant').optional(), content: z.array(Block), stop_reason: z.string().nullable().optional() });

const RequestBlock = z.looseObject({ type: z.string(), text: z.string().optional(), id: z.string().optional(), name: z.string().optional(), input: z.unknown().optional(), tool_use_id: z.string().optional(), content: z.unknown().optional(), is_error: z.boolean().optional() });
const Request = z.looseObject({
  model: z.string().optional(),
  stream: z.boolean().optional(),
  system: z.union([z.string(), z.array(RequestBlock)]).optional(),
  messages: z.array(z.looseObject({ role: z.string(), content: z.union([z.string(), z.array(RequestBlock)]) })),
});

function stopFor(stop: string | null | undefined, calls: ToolCall[]): string {
  if (calls.length && (stop == null || stop === 'end_turn')) return 'tool_use';
  if (!calls.length && (stop == null || stop === 'tool_use')) return 'end_turn';
  return stop ?? 'end_turn';
}

const inputOf = (args: string): unknown => {
  try {
    return JSON.parse(args || '{}');
  } catch {
    return {};
  }
};

function blocksOf(turn: Turn): Record<string, unknown>[] {
  const blocks: Record<string, unknown>[] = [];
  if (turn.text) blocks.push({ type: 'text', text: turn.text });
  for (const c of turn.toolCalls) blocks.push({ type: 'tool_use', id: c.id, name: c.name, input: inputOf(c.arguments) });
  return blocks;
}

const textOfBlocks = (c: unknown): string => (typeof c === 'string' ? c : Array.isArray(c) ? c.map((b) => (isObject(b) && typeof b.text === 'string' ? b.text : '')).join('') : '');

/** Anthropic Messages (`POST {base}/messages`), streamed as named events from `message_start` to `message_stop`. */
export const anthropic: LlmDialect = {
  name: 'anthropic',
  endpoint: '/messages',

  requestBody({ model, messages, tools, stream }) {
    const body: Record<string, unknown> = { model, max_tokens: 1024, stream };
    const system = messages.flatMap((m) => (m.role === 'system' ? [m.text] : []));
    if (system.length) body.system = system.join('\n');
    const out: { role: string; content: unknown }[] = [];
    for (const m of messages) {
      if (m.role === 'system') continue;
      if (m.role === 'user') out.push({ role: 'user', content: m.text });
      else if (m.role === 'assistant') out.push({ role: 'assistant', content: blocksOf(m.turn) });
      else if (m.role === 'tool') {
        const block: Record<string, unknown> = { type: 'tool_result', tool_use_id: m.callId, content: m.content };
        if (m.isError) block.is_error = true;
        // Results of one turn's calls go back in one user message.
        const last = out[out.length - 1];
        if (last?.role === 'user' && Array.isArray(last.content)) (last.content as unknown[]).push(block);
        else out.push({ role: 'user', content: [block] });
      }
    }
    body.messages = out;
    if (tools.length) body.tools = tools.map((t) => ({ name: t.name, description: t.description, input_schema: t.parameters }));
    return body;
  },

  requestHeaders(key) {
    return { 'content-type': 'application/json', accept: 'text/event-stream', 'anthropic-version': '2023-06-01', ...(key ? { 'x-api-key': key } : {}) };
  },

  parseRequest(body): ParsedRequest {
    const r = Request.parse(body);
    const messages: ChatMessage[] = [];
    if (r.system !== undefined) messages.push({ role: 'system', text: textOfBlocks(r.system) });
    const names = new Map<string, string>();
    for (const m of r.messages) {
      if (typeof m.content === 'string') {
        messages.push(m.role === 'assistant' ? { role: 'assistant', turn: { text: m.content, toolCalls: [], stop: 'end_turn' } } : { role: 'user', text: m.content });
        continue;
      }
      if (m.role === 'assistant') {
        const toolCalls = m.content.filter((b) => b.type === 'tool_use').map((b) => ({ id: b.id ?? '', name: b.name ?? '', arguments: JSON.stringify(b.input ?? {}) }));
        for (const c of toolCalls) names.set(c.id, c.name);
        messages.push({ role: 'assistant', turn: { text: textOfBlocks(m.content.filter((b) => b.type === 'text')), toolCalls, stop: stopFor(undefined, toolCalls) } });
        continue;
      }
      const text = textOfBlocks(m.content.filter((b) => b.type === 'text'));
      if (text) messages.push({ role: 'user', text });
      for (const b of m.content.filter((b) => b.type === 'tool_result')) {
        const content = typeof b.content === 'string' ? b.content : textOfBlocks(b.content);
        messages.push({ role: 'tool', callId: b.tool_use_id ?? '', name: names.get(b.tool_use_id ?? '') ?? '', content, isError: b.is_error });
      }
    }
    return { model: r.model, stream: r.stream === true, messages };
  },

  assemble(events: SseEvent[]): Assembled {
    const blocks = new Map<number, { type: string; id: string; name: string; pieces: string[] }>();
    let stop: string | undefined;
    let meta: Layout['meta'];
    let input = 0;
    let output = 0;
    for (const e of events) {
      let ev: unknown;
      try {
        ev = JSON.parse(e.data);
      } catch {
        throw new Error(`a stream event is not JSON: ${e.data.slice(0, 60)}`);
      }
      if (!isObject(ev)) continue;
      if (ev.type === 'message_start' && isObject(ev.message)) {
        const m = ev.message;
        meta = { id: String(m.id ?? ''), model: String(m.model ?? ''), created: 0 };
        if (isObject(m.usage)) {
          input = Number(m.usage.input_tokens ?? 0);
          output = Number(m.usage.output_tokens ?? 0);
        }
      } else if (ev.type === 'content_block_start' && isObject(ev.content_block)) {
        const b = ev.content_block;
        blocks.set(Number(ev.index ?? blocks.size), { type: String(b.type), id: String(b.id ?? ''), name: String(b.name ?? ''), pieces: typeof b.text === 'string' && b.text ? [b.text] : [] });
      } else if (ev.type === 'content_block_delta' && isObject(ev.delta)) {
        const b = blocks.get(Number(ev.index ?? 0));
        const piece = ev.delta.type === 'text_delta' ? ev.delta.text : ev.delta.partial_json;
        if (b && typeof piece === 'string' && piece) b.pieces.push(piece);
      } else if (ev.type === 'message_delta') {
        if (isObject(ev.delta) && typeof ev.delta.stop_reason === 'string') stop = ev.delta.stop_reason;
        if (isObject(ev.usage) && ev.usage.output_tokens !== undefined) output = Number(ev.usage.output_tokens);
      }
    }
    const ordered = [...blocks.entries()].sort((a, b) => a[0] - b[0]).map(([, b]) => b);
    const texts = ordered.filter((b) => b.type === 'text');
    const tools = ordered.filter((b) => b.type === 'tool_use');
    const toolCalls = tools.map((b) => ({ id: b.id, name: b.name, arguments: b.pieces.join('') }));
    const turn: Turn = { text: texts.map((b) => b.pieces.join('')).join(''), toolCalls, stop: stop ?? stopFor(undefined, toolCalls), usage: { input, output } };
    return { doc: { role: 'assistant', content: blocksOf(turn), stop_reason: turn.stop }, turn, layout: { cuts: [cutsOf(texts.flatMap((b) => b.pieces)), ...tools.map((b) => cutsOf(b.pieces))], template: templateOf(events), meta } };
  },

  fromJson(body): Assembled {
    if (!isObject(body) || !Array.isArray(body.content)) throw new Error('the response is not a Messages API message (no content array)');
    const blocks = body.content.filter(isObject);
    const toolCalls = blocks.filter((b) => b.type === 'tool_use').map((b) => ({ id: String(b.id ?? ''), name: String(b.name ?? ''), arguments: JSON.stringify(b.input ?? {}) }));
    const u = isObject(body.usage) ? body.usage : {};
    const turn: Turn = { text: textOfBlocks(blocks.filter((b) => b.type === 'text')), toolCalls, stop: stopFor(body.stop_reason as string | undefined, toolCalls), usage: { input: Number(u.input_tokens ?? 0), output: Number(u.output_tokens ?? 0) } };
    return { doc: { role: 'assistant', content: blocksOf(turn), stop_reason: turn.stop }, turn, layout: { cuts: [], template: [{ json: body, raw: JSON.stringify(body) }], meta: { id: String(body.id ?? ''), model: String(body.model ?? ''), created: 0 } } };
  },

  turnOf(doc, was): Turn {
    const r = Doc.safeParse(doc);
    if (!r.success) {
      const i = r.error.issues[0];
      throw new Error(`the edited message does not fit a Messages API message (/${i.path.join('/')}: ${i.message})`);
    }
    const text = r.data.content.flatMap((b) => (b.type === 'text' ? [b.text as string] : [])).join('');
    const toolCalls = r.data.content
      .filter((b) => b.type === 'tool_use')
      .map((b, i) => {
        const before = was?.toolCalls[i];
        return { id: b.id as string, name: b.name as string, arguments: before && sameJson(before.arguments, b.input) ? before.arguments : JSON.stringify(b.input ?? {}) };
      });
    return { text, toolCalls, stop: stopFor(r.data.stop_reason, toolCalls), usage: was?.usage };
  },

  render(turn, layout) {
    const t = layout.template ?? [];
    const find = (type: string) => t.find((e) => isObject(e.json) && e.json.type === type);
    const ev = (event: string, data: unknown) => ({ event, data: typeof data === 'string' ? data : JSON.stringify(data) });
    const out: { event?: string; data: string }[] = [];
    const start = find('message_start');
    const usage = turn.usage ?? { input: 0, output: 0 };
    out.push(start ? ev('message_start', start.raw) : ev('message_start', { type: 'message_start', message: { id: layout.meta?.id ?? '', type: 'message', role: 'assistant', model: layout.meta?.model ?? '', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: usage.input, output_tokens: 1 } } }));
    const ping = find('ping');
    if (ping || !layout.template) out.push(ev('ping', ping ? ping.raw : { type: 'ping' }));
    let index = 0;
    const block = (first: Record<string, unknown>, pieces: string[], delta: (p: string) => Record<string, unknown>) => {
      out.push(ev('content_block_start', { type: 'content_block_start', index, content_block: first }));
      for (const p of pieces) out.push(ev('content_block_delta', { type: 'content_block_delta', index, delta: delta(p) }));
      out.push(ev('content_block_stop', { type: 'content_block_stop', index }));
      index++;
    };
    if (turn.text) block({ type: 'text', text: '' }, cutText(turn.text, layout.cuts[0] ?? []), (text) => ({ type: 'text_delta', text }));
    turn.toolCalls.forEach((c, i) => {
      const cuts = layout.cuts[i + 1] ?? layout.cuts[layout.cuts.length - 1] ?? [];
      block({ type: 'tool_use', id: c.id, name: c.name, input: {} }, cutText(c.arguments, cuts), (partial_json) => ({ type: 'input_json_delta', partial_json }));
    });
    const delta = find('message_delta');
    const base = delta && isObject(delta.json) ? delta.json : { type: 'message_delta', delta: { stop_reason: null, stop_sequence: null }, usage: { output_tokens: usage.output } };
    out.push(ev('message_delta', { ...base, delta: { ...(isObject(base.delta) ? base.delta : {}), stop_reason: turn.stop } }));
    const stop = find('message_stop');
    out.push(ev('message_stop', stop ? stop.raw : { type: 'message_stop' }));
    return out;
  },

  renderJson(turn, meta, template) {
    const usage = turn.usage ?? { input: 0, output: 0 };
    const base = isObject(template) ? template : { id: meta.id, type: 'message', role: 'assistant', model: meta.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: usage.input, output_tokens: usage.output } };
    return { ...base, content: blocksOf(turn), stop_reason: turn.stop };
  },

  stopReason: (withCalls) => (withCalls ? 'tool_use' : 'end_turn'),

  errorBody(message, type) {
    return { type: 'error', error: { type, message } };
  },
};
