import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Agent, Dispatcher } from 'undici';
import { ToolError } from '../errors.js';
import type { TapeWriter } from '../tape/writer.js';
import { forwardable, headerPairs } from '../net/http.js';
import { Holds, trustHint } from './channel.js';

export interface HttpRoute {
  /** Path prefix on the proxy, e.g. `/openai`; `/` catches everything. */
  prefix: string;
  /** Where requests under it go, e.g. `https://api.openai.com/v1`. */
  upstream: string;
}

/** Parses `PREFIX=URL` (or a bare URL for `/`). */
export function parseRoute(spec: string): HttpRoute {
  const eq = spec.indexOf('=');
  const [prefix, upstream] = eq > 0 && !spec.slice(0, eq).includes(':') ? [spec.slice(0, eq), spec.slice(eq + 1)] : ['/', spec];
  let url: URL;
  try {
    url = new URL(upstream);
  } catch {
    throw new ToolError('E_USAGE', `--http "${spec}": "${upstream}" is not a URL`, 'e.g. --http /openai=https://api.openai.com/v1');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ToolError('E_USAGE', `--http "${spec}": upstream must be http:// or https://`, 'e.g. --http /llm=http://127.0.0.1:8080');
  if (!prefix.startsWith('/')) throw new ToolError('E_USAGE', `--http "${spec}": the prefix must start with /`, 'e.g. --http /openai=https://api.openai.com/v1');
  return { prefix: prefix.replace(/\/+$/, '') || '/', upstream: url.href.replace(/\/+$/, '') };
}

export function pickRoute(routes: HttpRoute[], url: string): HttpRoute | undefined {
  let best: HttpRoute | undefined;
  for (const r of routes) {
    const hit = r.prefix === '/' || url === r.prefix || url.startsWith(r.prefix + '/') || url.startsWith(r.prefix + '?');
    if (hit && (!best || r.prefix.length > best.prefix.length)) best = r;
  }
  return best;
}

/** What forwarding one exchange needs: where to send it, how, and where to record it. */
export interface ExchangeContext {
  writer: TapeWriter;
  agent: Agent;
  routes: HttpRoute[];
  /** Upstream origin and base path by route, parsed once. */
  targets: Map<HttpRoute, Target>;
  /** Set when the recorder stops: a client cut off then got a reset. */
  state: { stopping: boolean };
  onWarning?: (line: string) => void;
}

export function exchangeContext(writer: TapeWriter, agent: Agent, routes: HttpRoute[], onWarning?: (line: string) => void): ExchangeContext {
  // Parsed once: a URL per request was a measurable share of the proxy's per-exchange work.
  return { writer, agent, routes, targets: new Map(routes.map((r) => [r, upstreamTarget(r.upstream)])), state: { stopping: false }, onWarning };
}

export interface Target {
  origin: string;
  /** The upstream's path, without a trailing slash; request paths go after it. */
  base: string;
}

function upstreamTarget(upstream: string): Target {
  const u = new URL(upstream);
  return { origin: u.origin, base: u.pathname.replace(/\/+$/, '') };
}

/**
 * What the client got, when that is not what the frames alone say (`client` in a
 * `transport.error`; see docs/tape-format.md): `reset`, its connection was cut after the
 * recorded bytes (the upstream failed mid-response, or the recorder stopped); `gone`, it went
 * away first (gave up waiting) and got nothing more than the recorded bytes.
 */
export type ClientSaw = 'reset' | 'gone';

/**
 * Forwards one request to its route's upstream and records the exchange as one channel:
 * request head, request body chunks, response head, response body chunks as they arrived
 * (SSE and chunked responses stream through, never buffered whole).
 */
export function forwardExchange(ctx: ExchangeContext, req: IncomingMessage, res: ServerResponse, onClose: () => void = () => undefined, readBody?: Buffer): void {
  const { writer, agent, state, targets } = ctx;
  res.once('close', onClose);
  const url = req.url ?? '/';
  const method = req.method ?? 'GET';
  const route = pickRoute(ctx.routes, url);
  const ch = writer.channel('http', `${method} ${url}`.slice(0, 200), { url, upstream: route?.upstream, route: route?.prefix });
  const head = { method, path: url, headers: headerPairs(req.rawHeaders), upstream: route?.upstream };
  writer.event(ch, 'c2s', 'http.request', head);
  /** The recorder's own answer (no route, upstream unreachable): the client gets it, so the tape holds it. */
  const fail = (status: number, message: string) => {
    writer.event(ch, 'meta', 'transport.error', { error: message });
    const body = JSON.stringify({ error: { type: 'arcp_record', message } });
    const headers: [string, string][] = [['content-type', 'application/json'], ['content-length', String(Buffer.byteLength(body))]];
    writer.event(ch, 's2c', 'http.response', { status, headers });
    writer.frame(ch, 's2c', 'http.response.body', body);
    res.writeHead(status, Object.fromEntries(headers)).end(body);
  };
  if (!route) {
    req.resume();
    fail(404, `arcp record: no --http route for ${url} (routes: ${ctx.routes.map((r) => r.prefix).join(', ')})`);
    return;
  }
  const target = targets.get(route)!;
  const path = target.base + (route.prefix === '/' ? url : url.slice(route.prefix.length)) || '/';
  const headers = forwardable(head.headers);
  const hasBody = method !== 'GET' && method !== 'HEAD' && (req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined);
  // The request body goes to undici as the client's stream itself (or, read whole already,
  // as one buffer): each chunk is recorded as it is read, with no generator or extra stream
  // between (that cost ticks and allocations on every POST). While the tape is congested the
  // client's stream is paused again at each chunk, until the writer drains.
  let body: Buffer | IncomingMessage | undefined;
  if (readBody) {
    if (readBody.length) writer.frame(ch, 'c2s', 'http.request.body', readBody);
    body = hasBody || readBody.length ? readBody : undefined;
  } else if (hasBody) {
    let paused = false;
    req.on('data', (chunk: Buffer) => {
      writer.frame(ch, 'c2s', 'http.request.body', chunk);
      if (writer.congested && !paused) {
        paused = true;
        req.pause();
        writer.afterDrain(() => {
          paused = false;
          req.resume();
        });
      }
    });
    // Attaching a 'data' listener starts the flow; paused again until undici attaches its own
    // and resumes the stream (it does, once it writes the body), so no chunk passes it by.
    req.pause();
    body = req;
  }
  let controller: Dispatcher.DispatchController | undefined;
  const upstream = new Holds(() => controller?.pause(), () => controller?.resume());
  /** Body chunks parsed from one read: recorded each with its boundary, sent on as one write at the end of the tick. */
  let pending: Buffer[] = [];
  let arrivedAt = 0;
  const send = () => {
    if (!pending.length) return;
    const data = pending.length === 1 ? pending[0] : Buffer.concat(pending);
    writer.chunks(ch, 's2c', 'http.response.body', pending, data, arrivedAt);
    pending = [];
    if (!res.write(data)) upstream.hold((release) => res.once('drain', release));
    if (writer.congested) upstream.hold((release) => writer.afterDrain(release));
  };
  /** Set when the client's side closed before the response was complete: who did it decides what the tape says. */
  let cut: { error: string; client: ClientSaw } | undefined;
  const clientLeft = () => {
    if (res.writableFinished || cut) return;
    cut = state.stopping ? { error: 'recorder stopping', client: 'reset' } : { error: 'client went away', client: 'gone' };
    controller?.abort(new Error(cut.error));
  };
  res.once('close', clientLeft);
  // A client that leaves while its request body is still coming ends the exchange the same way,
  // whichever of the two streams reports it first.
  req.once('aborted', clientLeft);
  agent.dispatch(
    { origin: target.origin, path: path.startsWith('/') ? path : '/' + path, method: method as Dispatcher.HttpMethod, headers, body },
    {
      onRequestStart(c) {
        controller = c;
        // The client left while the request waited for an upstream connection: it is not sent.
        if (cut) c.abort(new Error(cut.error));
      },
      onResponseStart(c, status, _parsed, statusMessage) {
        if (status < 200) return; // 1xx informational: the final head follows
        const pairs = headerPairs((c.rawHeaders ?? []) as Buffer[]);
        writer.event(ch, 's2c', 'http.response', { status, headers: pairs });
        // Sent with the first body chunk, as a plain proxy would: one packet, not two.
        res.writeHead(status, statusMessage || undefined, forwardable(pairs));
      },
      onResponseData(_c, chunk) {
        // The client gets what one read delivered as one write, at the end of this tick: no
        // chunk waits for a later one.
        if (pending.push(chunk) === 1) {
          arrivedAt = performance.now();
          process.nextTick(send);
        }
      },
      onResponseEnd() {
        send();
        writer.event(ch, 'meta', 'transport.close', {});
        res.end();
      },
      onResponseError(_c, err) {
        if (cut || res.destroyed) {
          // The client is not there to get a 502: record what it did get, nothing more. The
          // upstream may be fine; the warning names the side that ended the exchange.
          pending = [];
          const end = cut ?? { error: 'client went away', client: 'gone' as const };
          writer.event(ch, 'meta', 'transport.error', end);
          if (end.client === 'gone') ctx.onWarning?.(`${method} ${url}: the client closed its connection before the exchange was complete (the upstream was not at fault); the tape holds what it got`);
          return;
        }
        send(); // what arrived before the failure is recorded and passed on
        const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as NodeJS.ErrnoException).code;
        const message = `upstream ${route.upstream} ${res.headersSent ? 'failed mid-response' : 'unreachable'}: ${cause ?? err.message}${trustHint(cause)}`;
        ctx.onWarning?.(`${method} ${url}: ${message}`);
        if (res.headersSent) {
          // Mid-response: the client's stream is cut as the upstream's was (curl says exit 18).
          writer.event(ch, 'meta', 'transport.error', { error: message, client: 'reset' });
          res.destroy();
        } else fail(502, message);
      },
    },
  );
}
