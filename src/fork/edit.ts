import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ToolError } from '../errors.js';
import { dialectForPath } from '../llm/dialects.js';
import type { Assembled, LlmDialect } from '../llm/dialect.js';
import { formatSse, parseSse, type SseEvent } from '../llm/sse.js';
import type { Direction, FrameKind, RequestHead, ResponseHead } from '../tape/format.js';
import { readableBody, readExchanges } from '../tape/http-exchanges.js';
import { TapeReader, type TapeFrame } from '../tape/reader.js';
import { applyPatch, has, Patch, PatchError, type PatchOp } from './patch.js';
import { rechunkBytes, rechunkSse, type Chunk } from './rechunk.js';
import type { Step } from './steps.js';

/** How the user asked to change the step. */
export interface EditSpec {
  /** `POINTER=JSON`, each. */
  set?: string[];
  /** An RFC 6902 patch file. */
  patch?: string;
  /** A file holding the whole new document. */
  edit?: string;
}

/** The edit as the child's lineage keeps it: how it was given, and as RFC 6902 operations. */
export const EditRecord = z.object({ via: z.enum(['none', 'set', 'patch', 'edit']), ops: Patch, file: z.string().optional() });
export type EditRecord = z.infer<typeof EditRecord>;

function readJson(flag: string, file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ToolError('E_INPUT', `--${flag} ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'check the path');
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ToolError('E_INPUT', `--${flag} ${file} is not JSON: ${(e as Error).message}`, flag === 'patch' ? 'an RFC 6902 patch is a JSON array of {op, path, value}' : '`arcp fork TAPE --at STEP --show` prints the document to start from');
  }
}

/** The user's flags as operations on `doc` (`--set` replaces what exists and adds what does not). */
export function editOf(spec: EditSpec, doc: unknown): EditRecord {
  const given = [spec.set?.length ? 'set' : '', spec.patch ? 'patch' : '', spec.edit ? 'edit' : ''].filter(Boolean);
  if (given.length > 1) throw new ToolError('E_USAGE', `--${given.join(' and --')} both edit the step; give one`, 'several changes go in one --patch file, or several --set flags');
  if (spec.edit) return { via: 'edit', ops: [{ op: 'replace', path: '', value: readJson('edit', spec.edit) }], file: spec.edit };
  if (spec.patch) {
    const r = Patch.safeParse(readJson('patch', spec.patch));
    if (!r.success) {
      const i = r.error.issues[0];
      throw new ToolError('E_INPUT', `--patch ${spec.patch} is not an RFC 6902 patch (/${i.path.join('/')}: ${i.message})`, 'e.g. [{"op":"replace","path":"/content","value":"…"}]');
    }
    return { via: 'patch', ops: r.data, file: spec.patch };
  }
  if (spec.set?.length) {
    return {
      via: 'set',
      ops: spec.set.map((s): PatchOp => {
        const eq = s.indexOf('=');
        if (eq < 0 || (!s.startsWith('/') && eq !== 0)) throw new ToolError('E_USAGE', `--set "${s}" is not POINTER=JSON`, `e.g. --set '/tool_calls/0/function/name="read_file"'`);
        const path = s.slice(0, eq);
        let value: unknown;
        try {
          value = JSON.parse(s.slice(eq + 1));
        } catch {
          throw new ToolError('E_USAGE', `--set ${path}: the value is not JSON: ${s.slice(eq + 1).slice(0, 40)}`, `quote a string as JSON, e.g. --set '${path}="text"'`);
        }
        return { op: has(doc, path) ? 'replace' : 'add', path, value };
      }),
    };
  }
  return { via: 'none', ops: [] };
}

/** The step's new bytes: one frame, or an exchange's response (head and body chunks, with their times). */
export type EditedStep =
  | { kind: 'frame'; seq: number; channel: number; dir: Direction; frameKind: FrameKind; data: Buffer }
  | { kind: 'exchange'; channel: number; response: ResponseHead; chunks: Chunk[] };

/** What a user edits at a step, and how an edited document becomes the step's new bytes. */
export interface StepTarget {
  step: Step;
  /** `frame` an ARCP message; `llm` an LLM answer (the assembled message, streamed or not); `http` a JSON response body. */
  kind: 'frame' | 'llm' | 'http';
  doc: unknown;
  /** The dialect of an LLM step. */
  dialect?: LlmDialect;
  render(doc: unknown): EditedStep;
}

/** An exchange as an edit reads it: bodies with their content codings undone. */
export interface ExchangeBodies {
  channel: number;
  request: RequestHead;
  requestBody: Buffer;
  response?: ResponseHead;
  /** The response body chunks as they arrived (as sent: still compressed when they were). */
  chunks: Chunk[];
  /** The whole response body, readable. */
  body: Buffer;
  /** The response was compressed (`content-encoding`). */
  coded: boolean;
}

export function readExchange(tape: string, channel: number): ExchangeBodies {
  const r = TapeReader.open(tape);
  try {
    const x = readExchanges(r, new Set([channel]))[0];
    const request = x.request ?? { method: 'GET', path: '/', headers: [] };
    const body = readableBody(x.response?.headers ?? [], Buffer.concat(x.chunks.map((c) => c.data)));
    return {
      channel,
      request,
      requestBody: readableBody(request.headers, x.requestBody).data,
      response: x.response,
      chunks: x.chunks.map((c) => ({ data: c.data, mono_us: c.monoUs })),
      body: body.data,
      coded: body.codings.length > 0,
    };
  } finally {
    r.close();
  }
}

const headerOf = (h: ResponseHead, name: string) => h.headers.find(([k]) => k.toLowerCase() === name)?.[1];

/** The response head for the new body: its content-length (if it had one) fitted, and uncompressed (an edit writes plain bytes). */
function fitted(h: ResponseHead, length: number): ResponseHead {
  const headers = h.headers.filter(([k]) => k.toLowerCase() !== 'content-encoding');
  return { status: h.status, headers: headers.map(([k, v]): [string, string] => (k.toLowerCase() === 'content-length' ? [k, String(length)] : [k, v])) };
}

function frameTarget(tape: string, step: Step): StepTarget {
  const r = TapeReader.open(tape);
  let f: TapeFrame | undefined;
  try {
    f = r.frames({ fromSeq: step.seq, toSeq: step.seq }).next().value ?? undefined;
  } finally {
    r.close();
  }
  if (!f) throw new ToolError('E_USAGE', `no frame ${step.seq} in ${tape}`, '`arcp tape show` lists the frames');
  let doc: unknown;
  try {
    doc = JSON.parse(f.data.toString('utf8'));
  } catch {
    throw new ToolError('E_USAGE', `${step.address} (frame ${step.seq}) is not JSON; it cannot be edited`, 'fork at another step');
  }
  const frame = f;
  return {
    step,
    kind: 'frame',
    doc,
    // An edit that changes nothing keeps the recorded bytes.
    render: (d) => ({ kind: 'frame', seq: frame.seq, channel: frame.channel, dir: frame.dir, frameKind: frame.kind, data: JSON.stringify(d) === JSON.stringify(doc) ? frame.data : Buffer.from(JSON.stringify(d), 'utf8') }),
  };
}

function llmTarget(step: Step, x: ExchangeBodies, dialect: LlmDialect): StepTarget {
  const body = x.body;
  const sse = /text\/event-stream/.test(headerOf(x.response!, 'content-type') ?? '');
  let events: SseEvent[] = [];
  let assembled: Assembled;
  try {
    if (sse) {
      events = parseSse(body);
      assembled = dialect.assemble(events);
    } else assembled = dialect.fromJson(JSON.parse(body.toString('utf8')));
  } catch (e) {
    throw new ToolError('E_USAGE', `${step.address}: the recorded answer cannot be read as ${dialect.name} (${(e as Error).message})`, 'fork at another step');
  }
  return {
    step,
    kind: 'llm',
    doc: assembled.doc,
    dialect,
    render(d) {
      const turn = dialect.turnOf(d, assembled.turn);
      if (!sse) {
        const text = Buffer.from(JSON.stringify(dialect.renderJson(turn, assembled.layout.meta!, assembled.layout.template?.[0]?.json)), 'utf8');
        return { kind: 'exchange', channel: x.channel, response: fitted(x.response!, text.length), chunks: rechunkBytes(x.chunks, text) };
      }
      const next = dialect.render(turn, assembled.layout).map((e) => Buffer.from(formatSse(e), 'utf8'));
      // Compressed chunks say nothing about where events fell: then the cut is proportional.
      const chunks = x.coded ? rechunkBytes(x.chunks, Buffer.concat(next)) : rechunkSse(x.chunks, events, next);
      return { kind: 'exchange', channel: x.channel, response: fitted(x.response!, chunks.reduce((n, c) => n + c.data.length, 0)), chunks };
    },
  };
}

function httpTarget(step: Step, x: ExchangeBodies): StepTarget {
  const body = x.body;
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ToolError('E_USAGE', `${step.address}: the response body is not JSON; it cannot be edited`, 'fork at another step');
  }
  return {
    step,
    kind: 'http',
    doc,
    render(d) {
      const text = Buffer.from(JSON.stringify(d), 'utf8');
      return { kind: 'exchange', channel: x.channel, response: fitted(x.response!, text.length), chunks: rechunkBytes(x.chunks, text) };
    },
  };
}

/** What a step offers to edit. */
export function targetOf(tape: string, step: Step): StepTarget {
  if (!step.exchange) return frameTarget(tape, step);
  const x = readExchange(tape, step.exchange.channel);
  if (!x.response) throw new ToolError('E_USAGE', `${step.address}: the recording has no response for this exchange (it was cut off)`, 'fork at an earlier step');
  const dialect = step.role === 'llm' ? dialectForPath(x.request.path) : undefined;
  return dialect && x.response.status < 300 ? llmTarget(step, x, dialect) : httpTarget(step, x);
}

/** Applies the edit to the step's document and renders the result; a failing edit is one line naming the step and the pointers that exist there. */
export function applyEdit(target: StepTarget, edit: EditRecord): { doc: unknown; edited: EditedStep } {
  let doc: unknown;
  try {
    doc = applyPatch(target.doc, edit.ops);
  } catch (e) {
    if (!(e instanceof PatchError)) throw e;
    const near = e.nearest.slice(0, 6);
    throw new ToolError('E_USAGE', `the edit does not apply at ${target.step.address}: ${e.message}`, `${near.length ? `nearest: ${near.join(', ')}; ` : ''}\`arcp fork TAPE --at ${target.step.address} --show\` prints the document`);
  }
  try {
    return { doc, edited: target.render(doc) };
  } catch (e) {
    if (e instanceof ToolError) throw e;
    throw new ToolError('E_USAGE', `the edit does not apply at ${target.step.address}: ${(e as Error).message}`, `\`arcp fork TAPE --at ${target.step.address} --show\` prints the document`);
  }
}

