import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ToolError } from '../errors.js';
import type { ChatMessage, ParsedRequest, ToolCall, Turn } from './dialect.js';
import { DEMO_SCRIPT } from './demo-script.js';

const Range = z.tuple([z.number().nonnegative(), z.number().nonnegative()]).refine(([a, b]) => a <= b, 'the range must be [min, max]');

const When = z.strictObject({
  /** 1 for the first model call of a conversation, 2 after one answer, … */
  turn: z.number().int().positive().optional(),
  /** The request ends with a result of this tool. */
  after_tool: z.string().optional(),
  /** The first user message contains this text. */
  user_contains: z.string().optional(),
  /** The last message of the request contains this text. */
  last_contains: z.string().optional(),
});

const Reply = z.strictObject({
  when: When.optional(),
  /** The answer's text; `{{tool_result}}`, `{{tool_result.FIELD}}` and `{{user}}` are filled in from the request. */
  say: z.string().optional(),
  calls: z.array(z.strictObject({ name: z.string().min(1), arguments: z.union([z.record(z.string(), z.unknown()), z.string()]) })).optional(),
  /** Answer with an API error instead. */
  error: z.strictObject({ status: z.number().int().min(400).max(599), message: z.string(), type: z.string().optional() }).optional(),
});

/** A script: replies matched in order (first whose `when` holds), and how answers are cut into stream events and writes. */
export const Script = z.strictObject({
  model: z.string().optional(),
  seed: z.number().int().optional(),
  chunking: z
    .strictObject({
      /** Characters per content delta. */
      delta_chars: Range.optional(),
      /** Stream events per socket write. */
      events_per_write: Range.optional(),
      /** Milliseconds between writes. */
      gap_ms: Range.optional(),
      /** Every Nth write ends halfway through an event (0: never), as TCP may deliver it. */
      split_every: z.number().int().nonnegative().optional(),
    })
    .optional(),
  replies: z.array(Reply).min(1),
});
export type Script = z.infer<typeof Script>;
export type Reply = z.infer<typeof Reply>;

/** The built-in `demo`, or a JSON file. */
export function loadScript(spec: string): Script {
  if (spec === 'demo') return DEMO_SCRIPT;
  let text: string;
  try {
    text = readFileSync(spec, 'utf8');
  } catch (e) {
    throw new ToolError('E_INPUT', `cannot read script ${spec}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'pass a JSON script file, or --script demo');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ToolError('E_INPUT', `script ${spec} is not JSON: ${(e as Error).message}`, 'see `arcp llm serve --help` for the format');
  }
  const r = Script.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ToolError('E_INPUT', `script ${spec} does not fit the format (/${i.path.join('/')}: ${i.message})`, 'see `arcp llm serve --help` for the format');
  }
  return r.data;
}

/** What a reply is matched against. */
export interface Situation {
  turn: number;
  afterTool?: string;
  user: string;
  last: string;
  toolResult?: string;
}

export function situationOf(req: ParsedRequest): Situation {
  const m = req.messages;
  const last = m[m.length - 1];
  const textOf = (x: ChatMessage | undefined) => (!x ? '' : x.role === 'assistant' ? x.turn.text : x.role === 'tool' ? x.content : x.text);
  return {
    turn: m.filter((x) => x.role === 'assistant').length + 1,
    afterTool: last?.role === 'tool' ? last.name : undefined,
    user: textOf(m.find((x) => x.role === 'user')),
    last: textOf(last),
    toolResult: last?.role === 'tool' ? last.content : undefined,
  };
}

export function pickReply(script: Script, s: Situation): Reply | undefined {
  return script.replies.find(({ when: w }) => {
    if (!w) return true;
    if (w.turn !== undefined && w.turn !== s.turn) return false;
    if (w.after_tool !== undefined && w.after_tool !== s.afterTool) return false;
    if (w.user_contains !== undefined && !s.user.includes(w.user_contains)) return false;
    if (w.last_contains !== undefined && !s.last.includes(w.last_contains)) return false;
    return true;
  });
}

export function describeSituation(s: Situation): string {
  return `turn ${s.turn}${s.afterTool ? `, after a ${s.afterTool} result` : ''}`;
}

function fill(text: string, s: Situation): string {
  return text.replace(/\{\{\s*(user|tool_result)(?:\.([\w-]+))?\s*\}\}/g, (_m, what: string, field?: string) => {
    if (what === 'user') return s.user;
    if (s.toolResult === undefined) return '';
    if (!field) return s.toolResult;
    try {
      const v = (JSON.parse(s.toolResult) as Record<string, unknown>)[field];
      return typeof v === 'string' ? v : JSON.stringify(v ?? null);
    } catch {
      return '';
    }
  });
}

/** The reply as a turn; tool call ids come from `id(i)` so they are the same for the same request. */
export function turnOf(reply: Reply, s: Situation, id: (i: number) => string, stopReason: (withCalls: boolean) => string): Turn {
  const toolCalls: ToolCall[] = (reply.calls ?? []).map((c, i) => ({ id: id(i), name: c.name, arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments) }));
  return { text: fill(reply.say ?? '', s), toolCalls, stop: stopReason(toolCalls.length > 0) };
}
