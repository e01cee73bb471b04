import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as zlib from 'node:zlib';

/**
 * A local stand-in for an LLM API (OpenAI chat completions and Anthropic messages shapes) that
 * behaves as the real ones do on the wire: compresses when the client asks (gzip, deflate, br;
 * the first the client lists), streams SSE with a flush per event, answers 429 with
 * retry-after, and can reset the connection mid-stream or never answer.
 */
export type Behaviour = 'ok' | '429' | 'reset-mid-sse' | 'hang';

export interface LlmUpstream {
  url: string;
  /** Requests as received: method, path, headers, body. */
  requests: { method: string; path: string; headers: IncomingMessage['headers']; body: string }[];
  /** Behaviours for the next requests, taken in order; then 'ok'. */
  next: Behaviour[];
  /** Forces a coding (e.g. 'deflate-raw', 'identity') whatever the client asks. */
  encoding?: string;
  /** Put into every response (JSON field, and each SSE event's data). */
  secret: string;
  /** Bytes of the last response body as sent on the wire (compressed if it was). */
  lastWire: Buffer;
  connections: number;
  close(): Promise<void>;
}

const pick = (accept: string | undefined): string => {
  for (const c of (accept ?? '').split(',').map((s) => s.trim().split(';')[0])) if (c === 'gzip' || c === 'br' || c === 'deflate') return c;
  return 'identity';
};

function encoder(coding: string): zlib.Gzip | zlib.Deflate | zlib.DeflateRaw | zlib.BrotliCompress | undefined {
  if (coding === 'gzip') return zlib.createGzip();
  if (coding === 'deflate') return zlib.createDeflate();
  if (coding === 'deflate-raw') return zlib.createDeflateRaw();
  if (coding === 'br') return zlib.createBrotliCompress();
  return undefined;
}

export async function startLlmUpstream(secret = 'sk-proj-UPSTREAMSECRET0123456789abcdef'): Promise<LlmUpstream> {
  const up: LlmUpstream = { url: '', requests: [], next: [], secret, lastWire: Buffer.alloc(0), connections: 0, close: async () => undefined };
  const server = createServer(async (req, res) => {
    const parts: Buffer[] = [];
    for await (const c of req) parts.push(c as Buffer);
    const raw = Buffer.concat(parts);
    const body = (req.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(raw) : raw).toString('utf8');
    up.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
    const behaviour = up.next.shift() ?? 'ok';
    if (behaviour === 'hang') return; // accepts, reads, never answers
    if (behaviour === '429') {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1', 'x-ratelimit-remaining-requests': '0' }).end('{"error":{"type":"rate_limit_error","message":"slow down"}}');
      return;
    }
    const parsed = JSON.parse(body || '{}') as { stream?: boolean; model?: string };
    const anthropic = req.url?.startsWith('/v1/messages') ?? false;
    const coding = up.encoding ?? pick(req.headers['accept-encoding'] as string | undefined);
    const enc = encoder(coding);
    const wire: Buffer[] = [];
    const out = (chunk: Buffer | string) => {
      const b = Buffer.from(chunk);
      wire.push(b);
      res.write(b);
    };
    const headers: Record<string, string> = { 'content-type': parsed.stream ? 'text/event-stream' : 'application/json', 'x-request-id': `req_${up.requests.length}` };
    if (enc) headers['content-encoding'] = coding === 'deflate-raw' ? 'deflate' : coding;
    res.writeHead(200, headers);
    const send = async (text: string, flush: boolean) => {
      if (!enc) return out(text);
      enc.write(text);
      if (flush) await new Promise<void>((r) => enc.flush(() => r()));
    };
    if (enc) enc.on('data', (c: Buffer) => out(c));
    if (parsed.stream) {
      const events = anthropic ? anthropicEvents(secret) : openaiEvents(secret, parsed.model ?? 'gpt-test');
      for (let i = 0; i < events.length; i++) {
        await send(events[i], true);
        if (behaviour === 'reset-mid-sse' && i === 2) {
          await new Promise((r) => setTimeout(r, 20));
          res.socket?.resetAndDestroy();
          up.lastWire = Buffer.concat(wire);
          return;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    } else await send(JSON.stringify(anthropic ? anthropicMessage(secret) : openaiCompletion(secret, parsed.model ?? 'gpt-test')), false);
    if (enc) {
      const ended = new Promise((r) => enc.once('end', r));
      enc.end();
      await ended;
    }
    up.lastWire = Buffer.concat(wire);
    res.end();
  });
  server.on('connection', () => up.connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  up.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  up.close = () => new Promise<void>((r) => (server.close(() => r()), server.closeAllConnections()));
  return up;
}

export const openaiCompletion = (secret: string, model: string) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1764633600,
  model,
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the upstream' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 },
  secret_field: secret,
});

function openaiEvents(secret: string, model: string): string[] {
  const chunk = (delta: object, finish: string | null) => `data: ${JSON.stringify({ id: 'chatcmpl-2', object: 'chat.completion.chunk', created: 1764633600, model, choices: [{ index: 0, delta, finish_reason: finish }], secret_field: secret })}\n\n`;
  return [chunk({ role: 'assistant', content: '' }, null), chunk({ content: 'Hel' }, null), chunk({ content: 'lo' }, null), chunk({ content: '!' }, null), chunk({}, 'stop'), 'data: [DONE]\n\n'];
}

export const anthropicMessage = (secret: string) => ({
  id: 'msg_1',
  type: 'message',
  role: 'assistant',
  model: 'claude-test',
  content: [{ type: 'text', text: 'Hello from the upstream' }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 5, output_tokens: 4 },
  secret_field: secret,
});

function anthropicEvents(secret: string): string[] {
  const ev = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  return [
    ev('message_start', { message: { ...anthropicMessage(secret), content: [], stop_reason: null } }),
    ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hel' }, secret_field: secret }),
    ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'lo' } }),
    ev('content_block_stop', { index: 0 }),
    ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 4 } }),
    ev('message_stop', {}),
  ];
}
