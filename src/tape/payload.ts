import { isUtf8 } from 'node:buffer';
import { ToolError } from '../errors.js';
import { flagNames, isBodyKind } from './format.js';
import { header, readableBody, readExchanges, type RecordedExchange } from './http-exchanges.js';
import { TapeReader, type TapeFrame } from './reader.js';

/**
 * What a frame or an HTTP body holds, made readable: JSON pretty-printed, compressed bodies
 * decoded, SSE reassembled (the event stream as one text, and the text an LLM streamed in it).
 * For `tape show --frame / --body` and `--textconv`; the bytes on tape are never changed.
 */
export interface Readable {
  /** The bytes made readable: pretty JSON, text, or `(N bytes, binary)`. */
  text: string;
  /** How it was read: `json`, `sse`, `text`, `binary`; and the codings undone, if any. */
  as: 'json' | 'sse' | 'text' | 'binary';
  decoded?: string[];
  /** SSE only: the text the stream's deltas spell (OpenAI `choices[].delta.content`, Anthropic `delta.text`). */
  assembled?: string;
}

export function readable(data: Buffer, contentType = '', sse = false): Readable {
  if (!isUtf8(data)) return { text: `(${data.length} bytes, binary)`, as: 'binary' };
  const text = data.toString('utf8');
  if (sse || /event-stream/i.test(contentType)) return { text, as: 'sse', assembled: assembleSse(text) };
  try {
    return { text: JSON.stringify(JSON.parse(text), null, 2), as: 'json' };
  } catch {
    return { text, as: 'text' };
  }
}

/** The text deltas of an SSE stream joined: what the model said, for OpenAI and Anthropic streams. */
function assembleSse(stream: string): string | undefined {
  let out = '';
  let any = false;
  for (const line of stream.split(/\r?\n/)) {
    const m = /^data: ?(.*)$/.exec(line);
    if (!m || !m[1].startsWith('{')) continue;
    try {
      const d = JSON.parse(m[1]) as { choices?: { delta?: { content?: unknown } }[]; delta?: { text?: unknown } };
      const piece = d.choices?.[0]?.delta?.content ?? d.delta?.text;
      if (typeof piece === 'string') {
        out += piece;
        any = true;
      }
    } catch {
      // an event that is not JSON
    }
  }
  return any ? out : undefined;
}

/** A body with its content codings undone (when it has them) and made readable. */
function readableHttpBody(headers: [string, string][], body: Buffer, sse: boolean): Readable {
  const b = readableBody(headers, body);
  const r = readable(b.data, header(headers, 'content-type') ?? '', sse);
  return b.decoded ? { ...r, decoded: b.codings } : r;
}

export interface FrameView {
  frame: Omit<TapeFrame, 'data'> & { flagNames: string[] };
  payload: Readable;
  /** For a body row of a compressed exchange: the whole body decoded (its rows cannot be decoded one by one). */
  wholeBody?: Readable;
}

/** One frame by seq, readable. */
export function showFrame(path: string, seq: number): FrameView {
  const tape = TapeReader.open(path);
  try {
    const [f] = tape.frames({ fromSeq: seq, toSeq: seq });
    if (!f) throw new ToolError('E_USAGE', `${path} has no frame ${seq}`, `its frames are 1…${tape.frameCount()} (see arcp tape show)`);
    const { data, ...frame } = f;
    const view: FrameView = { frame: { ...frame, flagNames: flagNames(f.flags) }, payload: readable(data, '', (f.flags & 32) !== 0) };
    if (isBodyKind(f.kind)) {
      const [e] = readExchanges(tape, new Set([f.channel]));
      const headers = (f.kind === 'http.request.body' ? e?.request?.headers : e?.response?.headers) ?? [];
      const whole = f.kind === 'http.request.body' ? e.requestBody : Buffer.concat(e.chunks.map((c) => c.data));
      const body = readableHttpBody(headers, whole, (f.flags & 32) !== 0);
      if (body.decoded) view.wholeBody = body;
      else view.payload = readable(data, header(headers, 'content-type') ?? '', (f.flags & 32) !== 0);
    }
    return view;
  } finally {
    tape.close();
  }
}

export interface ExchangeView {
  channel: number;
  route?: string;
  method: string;
  path: string;
  status?: number;
  /** How it ended for the client when not complete (see docs/tape-format.md). */
  client?: string;
  request: Readable;
  response: Readable;
}

/** Every HTTP exchange of these channels (all when omitted), request and response bodies readable. */
export function* showBodies(path: string, channels?: Set<number>): Generator<ExchangeView> {
  const tape = TapeReader.open(path);
  try {
    const routes = new Map(tape.channels().filter((c) => c.kind === 'http').map((c) => [c.id, typeof c.info.route === 'string' ? c.info.route : undefined]));
    const wanted = channels ? new Set([...routes.keys()].filter((id) => channels.has(id))) : new Set(routes.keys());
    for (const e of readExchanges(tape, wanted)) yield exchangeView(e, routes.get(e.channel));
  } finally {
    tape.close();
  }
}

function exchangeView(e: RecordedExchange, route: string | undefined): ExchangeView {
  const sse = (e.bodyFlags & 32) !== 0;
  return {
    channel: e.channel,
    route,
    method: e.request?.method ?? '?',
    path: e.request?.path ?? '?',
    status: e.response?.status,
    client: e.end?.event.client,
    request: e.requestBody.length ? readableHttpBody(e.request?.headers ?? [], e.requestBody, false) : { text: '', as: 'text' },
    response: readableHttpBody(e.response?.headers ?? [], Buffer.concat(e.chunks.map((c) => c.data)), sse),
  };
}
