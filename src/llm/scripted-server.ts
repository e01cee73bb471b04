import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bindError } from '../errors.js';
import type { Layout, LlmDialect, Turn } from './dialect.js';
import { dialectForPath } from './dialects.js';
import { describeSituation, pickReply, situationOf, turnOf, type Script } from './script.js';
import { formatSse } from './sse.js';

export interface ScriptedLlmOptions {
  script: Script;
  host?: string;
  port?: number;
  /** One line per request answered. */
  onRequest?: (line: string) => void;
}

export interface ScriptedLlm {
  /** The base URL an agent is given (`…/v1`); both `/chat/completions` and `/messages` answer under it. */
  url: string;
  /** Requests answered so far. */
  readonly requests: number;
  close(): Promise<void>;
}

/** `created` of every answer: a fixed epoch plus the turn, so the same request gets the same bytes. */
const EPOCH = 1_735_689_600;
interface Chunking {
  delta_chars: [number, number];
  events_per_write: [number, number];
  gap_ms: [number, number];
  split_every: number;
}
const DEFAULT_CHUNKING: Chunking = { delta_chars: [2, 8], events_per_write: [1, 3], gap_ms: [2, 10], split_every: 4 };

/** A small seeded generator (mulberry32): the same request is chunked the same way every time. */
function random(seed: number): (min: number, max: number) => number {
  let a = seed >>> 0;
  return (min, max) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const r = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return Math.floor(min + r * (max - min + 1));
  };
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Fractions cutting `text` into pieces of `range` characters. */
function cuts(text: string, range: [number, number], rnd: (a: number, b: number) => number): number[] {
  const n = Array.from(text).length;
  const out: number[] = [];
  for (let at = rnd(Math.max(1, range[0]), Math.max(1, range[1])); at < n; at += rnd(Math.max(1, range[0]), Math.max(1, range[1]))) out.push(at / n);
  return out;
}

const estimateTokens = (chars: number) => Math.max(1, Math.ceil(chars / 4));

/**
 * A deterministic, scripted LLM API for demos and tests: OpenAI chat completions and Anthropic
 * Messages, streamed (SSE) or not. The answer to a request is the script's first matching reply;
 * ids, chunking and timing follow from the request's bytes and the script's seed, so a repeated
 * request gets the same bytes. It stands in for the network peer only.
 */
export async function startScriptedLlm(o: ScriptedLlmOptions): Promise<ScriptedLlm> {
  let requests = 0;
  const server = createServer((req, res) => {
    void answer(o, req, res).then(
      (line) => {
        requests++;
        o.onRequest?.(line);
      },
      () => res.destroy(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(bindError(e, { host: o.host, port: o.port })));
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = o.host ?? '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/v1`,
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function answer(o: ScriptedLlmOptions, req: IncomingMessage, res: ServerResponse): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  const path = req.url ?? '/';
  const head = `${req.method} ${path}`;
  const json = (status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
    return `${head} → ${status}`;
  };
  const model = o.script.model ?? 'scripted-1';
  if (req.method === 'GET' && /\/models\/?(\?|$)/.test(path)) return json(200, { object: 'list', data: [{ id: model, object: 'model', owned_by: 'arcp-scripted' }] });
  const dialect = dialectForPath(path);
  if (!dialect || req.method !== 'POST') return json(404, { error: { message: `scripted LLM: nothing at ${head}; POST …/chat/completions or …/messages`, type: 'not_found' } });
  let parsed;
  try {
    parsed = dialect.parseRequest(JSON.parse(raw));
  } catch (e) {
    return json(400, dialect.errorBody(`scripted LLM: the request does not fit the ${dialect.name} API: ${(e as Error).message.split('\n')[0]}`, 'invalid_request_error'));
  }
  const situation = situationOf(parsed);
  const reply = pickReply(o.script, situation);
  if (!reply) return json(400, dialect.errorBody(`scripted LLM: no reply in the script matches ${describeSituation(situation)}`, 'invalid_request_error'));
  if (reply.error) return json(reply.error.status, dialect.errorBody(reply.error.message, reply.error.type ?? 'api_error'));

  const hash = sha(`${o.script.seed ?? 0}\n${raw}`);
  const rnd = random(parseInt(hash.slice(0, 8), 16));
  const idPrefix = dialect.name === 'anthropic' ? 'toolu_' : 'call_';
  const turn: Turn = turnOf(reply, situation, (i) => idPrefix + sha(`${hash}:${i}`).slice(0, 24), dialect.stopReason);
  const inputChars = parsed.messages.reduce((n, m) => n + (m.role === 'assistant' ? m.turn.text.length : m.role === 'tool' ? m.content.length : m.text.length), 0);
  turn.usage = { input: estimateTokens(inputChars), output: estimateTokens(turn.text.length + turn.toolCalls.reduce((n, c) => n + c.arguments.length, 0)) };
  const meta = { id: `${dialect.name === 'anthropic' ? 'msg_' : 'chatcmpl-'}${hash.slice(0, 24)}`, model: parsed.model ?? model, created: EPOCH + situation.turn };
  const line = `${head} → 200 (${describeSituation(situation)}: ${turn.toolCalls.length ? `calls ${turn.toolCalls.map((c) => c.name).join(', ')}` : 'answers'})`;
  if (!parsed.stream) {
    json(200, dialect.renderJson(turn, meta));
    return line;
  }
  const c: Chunking = { ...DEFAULT_CHUNKING, ...o.script.chunking };
  const layout: Layout = { cuts: [cuts(turn.text, c.delta_chars, rnd), ...turn.toolCalls.map((t) => cuts(t.arguments, c.delta_chars, rnd))], meta };
  await stream(res, dialect, turn, layout, c, rnd, hash);
  return line;
}

/** Writes the events in socket writes of a few events each, some ending inside an event, with gaps between. */
async function stream(res: ServerResponse, dialect: LlmDialect, turn: Turn, layout: Layout, c: Chunking, rnd: (a: number, b: number) => number, hash: string): Promise<void> {
  const events = dialect.render(turn, layout).map((e) => Buffer.from(formatSse(e), 'utf8'));
  const body = Buffer.concat(events);
  const ends: number[] = [];
  events.reduce((at, e) => (ends.push(at + e.length), at + e.length), 0);
  let gone = false;
  res.once('close', () => (gone = !res.writableFinished));
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-request-id': `req_${hash.slice(0, 16)}` });
  let from = 0;
  let idx = 0;
  for (let w = 1; from < body.length && !gone; w++) {
    idx = Math.min(events.length, idx + Math.max(1, rnd(c.events_per_write[0], c.events_per_write[1])));
    let to = ends[idx - 1];
    // The write stops halfway through the next event; the next write finishes it.
    if (c.split_every && w % c.split_every === 0 && idx < events.length) to += Math.floor(events[idx].length / 2);
    res.write(body.subarray(from, to));
    from = to;
    if (from < body.length) await sleep(rnd(c.gap_ms[0], c.gap_ms[1]));
  }
  res.end();
}
