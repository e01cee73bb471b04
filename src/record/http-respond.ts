import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TapeWriter } from '../tape/writer.js';
import { forwardable, headerPairs } from './channel.js';

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

/** Reads the body (recording it), asks `respond`, and writes its answer or hands the body to `forward`. */
export async function answerOrForward(writer: TapeWriter, ch: number, req: IncomingMessage, res: ServerResponse, respond: Responder, fail: (status: number, message: string) => void, forward: (body: Buffer) => void): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) {
    writer.frame(ch, 'c2s', 'http.request.body', c);
    chunks.push(c);
  }
  const body = Buffer.concat(chunks);
  let canned: CannedResponse | undefined;
  try {
    canned = await respond({ method: req.method ?? 'GET', path: req.url ?? '/', headers: headerPairs(req.rawHeaders), body });
  } catch (e) {
    fail(502, (e as Error).message);
    return;
  }
  if (!canned) return forward(body);
  writer.event(ch, 's2c', 'http.response', { status: canned.status, headers: canned.headers });
  res.writeHead(canned.status, forwardable(canned.headers));
  for (const c of canned.chunks) {
    if (c.delayMs >= 1) await sleep(c.delayMs);
    if (res.destroyed) break;
    writer.frame(ch, 's2c', 'http.response.body', c.data);
    if (!res.write(c.data)) await new Promise((r) => (res.once('drain', r), res.once('close', r)));
  }
  writer.event(ch, 'meta', 'transport.close', {});
  res.end();
}
