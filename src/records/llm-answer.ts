import { isUtf8 } from 'node:buffer';
import { parseSse } from '../llm/sse.js';
import { sha256hex } from '../tape/fingerprint.js';

/** What an LLM API answered, as one JSON value: a streamed answer put back together as the API's own non-streamed shape. */
export interface Answer {
  /** `openai.chat`, `openai.responses`, `anthropic.messages` (streams reassembled), `sse` (other streams), `json`, `text`, `binary`. */
  dialect: string;
  value: unknown;
  /** For `tape show`-like summaries: the text the model said, when there is one. */
  text?: string;
}

type O = Record<string, unknown>;
const obj = (v: unknown): O => (v && typeof v === 'object' && !Array.isArray(v) ? (v as O) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

const parse = (s: string): unknown => {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
};

/** OpenAI chat completion chunks → the `chat.completion` the same request would have answered unstreamed. */
function openaiChat(chunks: O[]): Answer {
  const choices = new Map<number, { role?: string; content: string; hasContent: boolean; refusal?: string; calls: Map<number, { id?: string; type?: string; name: string; arguments: string }>; finish?: unknown }>();
  let head: O = {};
  let usage: unknown;
  for (const c of chunks) {
    if (!head.id && c.id !== undefined) head = { id: c.id, model: c.model, created: c.created };
    if (c.usage) usage = c.usage;
    for (const ch of Array.isArray(c.choices) ? c.choices.map(obj) : []) {
      const i = typeof ch.index === 'number' ? ch.index : 0;
      let x = choices.get(i);
      if (!x) choices.set(i, (x = { content: '', hasContent: false, calls: new Map() }));
      const d = obj(ch.delta);
      x.role ??= str(d.role);
      if (typeof d.content === 'string') {
        x.content += d.content;
        x.hasContent = true;
      }
      if (typeof d.refusal === 'string') x.refusal = (x.refusal ?? '') + d.refusal;
      for (const tc of Array.isArray(d.tool_calls) ? d.tool_calls.map(obj) : []) {
        const j = typeof tc.index === 'number' ? tc.index : 0;
        let t = x.calls.get(j);
        if (!t) x.calls.set(j, (t = { name: '', arguments: '' }));
        t.id ??= str(tc.id);
        t.type ??= str(tc.type);
        const f = obj(tc.function);
        t.name += str(f.name) ?? '';
        t.arguments += str(f.arguments) ?? '';
      }
      if (ch.finish_reason !== undefined && ch.finish_reason !== null) x.finish = ch.finish_reason;
    }
  }
  const list = [...choices.entries()].sort(([a], [b]) => a - b).map(([index, x]) => {
    const message: O = { role: x.role ?? 'assistant', content: x.hasContent ? x.content : null };
    if (x.refusal !== undefined) message.refusal = x.refusal;
    if (x.calls.size) message.tool_calls = [...x.calls.entries()].sort(([a], [b]) => a - b).map(([, t]) => ({ id: t.id ?? null, type: t.type ?? 'function', function: { name: t.name, arguments: t.arguments } }));
    return { index, message, finish_reason: x.finish ?? null };
  });
  const value: O = { ...head, object: 'chat.completion', choices: list };
  if (usage !== undefined) value.usage = usage;
  const text = list.map((c) => str(c.message.content) ?? '').join('');
  return { dialect: 'openai.chat', value, text };
}

/** Anthropic Messages stream events → the `message` the same request would have answered unstreamed. */
function anthropicMessages(events: O[]): Answer {
  let message: O = {};
  const blocks = new Map<number, O & { partial?: string }>();
  for (const e of events) {
    const i = typeof e.index === 'number' ? e.index : 0;
    if (e.type === 'message_start') message = { ...obj(e.message) };
    else if (e.type === 'content_block_start') blocks.set(i, { ...obj(e.content_block) });
    else if (e.type === 'content_block_delta') {
      const b = blocks.get(i) ?? {};
      blocks.set(i, b);
      const d = obj(e.delta);
      if (d.type === 'text_delta') b.text = (str(b.text) ?? '') + (str(d.text) ?? '');
      else if (d.type === 'input_json_delta') b.partial = (b.partial ?? '') + (str(d.partial_json) ?? '');
      else if (d.type === 'thinking_delta') b.thinking = (str(b.thinking) ?? '') + (str(d.thinking) ?? '');
      else if (d.type === 'signature_delta') b.signature = (str(b.signature) ?? '') + (str(d.signature) ?? '');
    } else if (e.type === 'message_delta') {
      Object.assign(message, obj(e.delta));
      if (e.usage) message.usage = { ...obj(message.usage), ...obj(e.usage) };
    }
  }
  const content = [...blocks.entries()].sort(([a], [b]) => a - b).map(([, b]) => {
    const { partial, ...rest } = b;
    if (partial !== undefined) rest.input = parse(partial || '{}') ?? partial;
    return rest;
  });
  const value = { ...message, content };
  const text = content.map((b) => str(b.text) ?? '').join('');
  return { dialect: 'anthropic.messages', value, text };
}

/** OpenAI Responses API stream: its `response.completed` carries the whole response; else the text deltas. */
function openaiResponses(events: O[]): Answer {
  const done = events.find((e) => e.type === 'response.completed' || e.type === 'response.incomplete' || e.type === 'response.failed');
  const text = events.filter((e) => e.type === 'response.output_text.delta').map((e) => str(e.delta) ?? '').join('');
  return { dialect: 'openai.responses', value: done ? obj(done.response) : { output_text: text }, text };
}

/**
 * A response body as the answer a record states: SSE streams reassembled into the API's own
 * unstreamed shape (every choice, tool call and usage field kept, never throwing on a stranger's
 * events), JSON parsed, text as text. (src/llm's dialects assemble a neutral turn for the agent
 * and fork; a record keeps what the API said, in its words.)
 */
export function assembleAnswer(body: Buffer, contentType: string, sse: boolean): Answer {
  if (!isUtf8(body)) return { dialect: 'binary', value: { bytes: body.length, sha256: sha256hex(body) } };
  const text = body.toString('utf8');
  if (sse || /event-stream/i.test(contentType)) {
    const events = parseSse(body);
    const data = events.map((e) => obj(parse(e.data)));
    if (data.some((d) => Array.isArray(d.choices))) return openaiChat(data.filter((d) => Array.isArray(d.choices) || d.usage));
    if (data.some((d) => typeof d.type === 'string' && /^(message|content_block)_/.test(d.type))) return anthropicMessages(data);
    if (data.some((d) => typeof d.type === 'string' && d.type.startsWith('response.'))) return openaiResponses(data);
    return { dialect: 'sse', value: events.map((e) => ({ ...(e.event !== undefined ? { event: e.event } : {}), data: parse(e.data) ?? e.data })) };
  }
  const json = parse(text);
  if (json !== undefined) {
    const o = obj(json);
    const choice = Array.isArray(o.choices) ? obj(o.choices[0]) : undefined;
    const said = str(obj(choice?.message).content) ?? (Array.isArray(o.content) ? o.content.map((b) => str(obj(b).text) ?? '').join('') : undefined);
    return { dialect: 'json', value: json, text: said };
  }
  return { dialect: 'text', value: text, text };
}
