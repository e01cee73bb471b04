import { z } from 'zod';
import type { SseEvent } from './sse.js';

/** A tool the agent offers the model: name, what it does, JSON schema of its arguments. */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export const ToolCall = z.object({ id: z.string(), name: z.string().min(1), arguments: z.string() });
/** One call the model asked for; `arguments` is the JSON text as the model wrote it. */
export type ToolCall = z.infer<typeof ToolCall>;

export const Usage = z.object({ input: z.number().int().nonnegative(), output: z.number().int().nonnegative() });
export type Usage = z.infer<typeof Usage>;

/** One model answer, whatever the API: its text, the tool calls, why it stopped (the API's own word). */
export interface Turn {
  text: string;
  toolCalls: ToolCall[];
  stop: string;
  usage?: Usage;
}

/** The conversation as the agent keeps it; each dialect writes it in its API's shape. */
export type ChatMessage =
  | { role: 'system' | 'user'; text: string }
  | { role: 'assistant'; turn: Turn }
  | { role: 'tool'; callId: string; name: string; content: string; isError?: boolean };

/** A parsed event of a recorded stream: its name and its data as JSON (or the raw text, like `[DONE]`). */
export interface TemplateEvent {
  event?: string;
  json: unknown;
  /** The data as recorded, for events copied unchanged. */
  raw: string;
}

/**
 * How a streamed answer is cut into events: for each content block (the text, then each tool
 * call's arguments) the positions of the delta boundaries as fractions of its length, so an
 * edited answer is cut at the same relative places. `template` is the recorded stream whose
 * framing (envelope fields, extra events) a re-rendered answer copies; without it the dialect's
 * plain framing is used with `meta`.
 */
export interface Layout {
  cuts: number[][];
  template?: TemplateEvent[];
  meta?: { id: string; model: string; created: number };
}

/** A streamed or JSON answer read back: the document a user edits, the neutral turn, and how it was cut. */
export interface Assembled {
  doc: Record<string, unknown>;
  turn: Turn;
  layout: Layout;
}

/** What a server reads from a request. */
export interface ParsedRequest {
  model?: string;
  stream: boolean;
  messages: ChatMessage[];
}

/**
 * One LLM API shape (OpenAI chat completions, Anthropic Messages). The agent builds requests and
 * reads streams with it, the scripted server answers with it, and fork re-renders an edited
 * answer with it: one implementation per API, all run through test/contract/llm-dialect.test.ts.
 */
export interface LlmDialect {
  readonly name: 'openai' | 'anthropic';
  /** The path after the base URL, e.g. `/chat/completions`. */
  readonly endpoint: string;
  requestBody(o: { model: string; messages: ChatMessage[]; tools: ToolSpec[]; stream: boolean }): Record<string, unknown>;
  requestHeaders(key?: string): Record<string, string>;
  parseRequest(body: unknown): ParsedRequest;
  /** A whole stream's events as one answer. */
  assemble(events: SseEvent[]): Assembled;
  /** A non-streamed (JSON) response body as one answer. */
  fromJson(body: unknown): Assembled;
  /** The edited document back to a turn; `was` keeps the original argument text of calls the edit left alone. Throws a one-line Error when it does not fit. */
  turnOf(doc: unknown, was?: Turn): Turn;
  /** A turn as stream events, cut and framed by `layout`. */
  render(turn: Turn, layout: Layout): { event?: string; data: string }[];
  /** A turn as a non-streamed response body, framed like `template` when given. */
  renderJson(turn: Turn, meta: NonNullable<Layout['meta']>, template?: unknown): unknown;
  /** The API's stop reason for a finished answer, with or without tool calls. */
  stopReason(withCalls: boolean): string;
  /** An error response body in the API's shape. */
  errorBody(message: string, type: string): unknown;
}

/** Code points of `text`, cut at `fractions` of its length (each piece non-empty). */
export function cutText(text: string, fractions: number[]): string[] {
  const cps = Array.from(text);
  if (!cps.length) return [];
  const at = [...new Set(fractions.map((f) => Math.round(f * cps.length)).filter((i) => i > 0 && i < cps.length))].sort((a, b) => a - b);
  const out: string[] = [];
  let from = 0;
  for (const i of [...at, cps.length]) {
    out.push(cps.slice(from, i).join(''));
    from = i;
  }
  return out;
}

/** The fractions at which `pieces` were cut from their concatenation (by code points). */
export function cutsOf(pieces: string[]): number[] {
  const lens = pieces.map((p) => Array.from(p).length);
  const total = lens.reduce((a, b) => a + b, 0);
  if (!total) return [];
  const out: number[] = [];
  let at = 0;
  for (const l of lens.slice(0, -1)) {
    at += l;
    if (l) out.push(at / total);
  }
  return out;
}

export const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The JSON of an event's data, or its text when it is not JSON (`[DONE]`). */
export function templateOf(events: SseEvent[]): TemplateEvent[] {
  return events.map((e) => {
    try {
      return { event: e.event, json: JSON.parse(e.data), raw: e.data };
    } catch {
      return { event: e.event, json: e.data, raw: e.data };
    }
  });
}
