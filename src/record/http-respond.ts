import type { IncomingMessage, ServerResponse } from 'node:http';
import { forwardable, headerPairs } from '../net/http.js';
import { forwardExchange, pickRoute, type ExchangeContext } from './http-exchange.js';

/** An exchange as the proxy received it, the body read whole. */
export interface HeldRequest {
  method: string;
  /** As the client sent it (route prefix included). */
  path: string;
  headers: [string, string][];
  body: Buffer;
}

/** A response the proxy sends itself: the head, then each chunk after its delay. */
export interface CannedResponse {
  status: number;
  headers: [string, string][];
  chunks: { data: Buffer; delayMs: number }[];
}

/**
 * Answers an exchange in the proxy's place, or lets it be forwarded (undefined). An extension
 * point of the recording HTTP proxy: fork serves recorded and edited answers through it, so
 * they are recorded exactly as forwarded ones are. A throw is answered 502 with its message.
 */
export type Responder = (req: HeldRequest) => CannedResponse | undefined | Promise<CannedResponse | undefined>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Reads the request body, asks `respond`, and either forwards the exchange as the proxy would
 * (the body handed on) or records and writes the answer it gave, as one channel like any other.
 */
export async function answerOrForward(ctx: ExchangeContext, respond: Responder, req: IncomingMessage, res: ServerResponse, onClose: () => void): Promise<void> {
  const parts: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) parts.push(c);
  const body = Buffer.concat(parts);
  const method = req.method ?? 'GET';
  const url = req.url ?? '/';
  const headers = headerPairs(req.rawHeaders);
  let canned: CannedResponse | undefined;
  let failure: string | undefined;
  try {
    canned = await respond({ method, path: url, headers, body });
  } catch (e) {
    failure = (e as Error).message;
  }
  if (!canned && failure === undefined) return forwardExchange(ctx, req, res, onClose, body);
  res.once('close', onClose);
  const { writer } = ctx;
  const route = pickRoute(ctx.routes, url);
  const ch = writer.channel('http', `${method} ${url}`.slice(0, 200), { url, upstream: route?.upstream, route: route?.prefix });
  writer.event(ch, 'c2s', 'http.request', { method, path: url, headers, upstream: route?.upstream });
  if (body.length) writer.frame(ch, 'c2s', 'http.request.body', body);
  if (failure !== undefined) {
    const text = JSON.stringify({ error: { type: 'arcp_record', message: failure } });
    canned = { status: 502, headers: [['content-type', 'application/json'], ['content-length', String(Buffer.byteLength(text))]], chunks: [{ data: Buffer.from(text), delayMs: 0 }] };
    writer.event(ch, 'meta', 'transport.error', { error: failure });
  }
  writer.event(ch, 's2c', 'http.response', { status: canned!.status, headers: canned!.headers });
  res.writeHead(canned!.status, forwardable(canned!.headers));
  for (const c of canned!.chunks) {
    if (c.delayMs >= 1) await sleep(c.delayMs);
    if (res.destroyed) break;
    writer.frame(ch, 's2c', 'http.response.body', c.data);
    if (!res.write(c.data)) await new Promise((r) => (res.once('drain', r), res.once('close', r)));
  }
  writer.event(ch, 'meta', 'transport.close', {});
  res.end();
}
