import { createServer } from 'node:http';
import { Agent } from 'undici';
import { ToolError } from '../errors.js';
import type { TapeWriter } from '../tape/writer.js';
import { listeningChannel, type RecordChannel } from './channel.js';
import { exchangeContext, forwardExchange, type HttpRoute } from './http-exchange.js';
import { answerOrForward, type Responder } from './http-respond.js';

export { parseRoute, type HttpRoute } from './http-exchange.js';

export interface HttpProxyOptions {
  routes: HttpRoute[];
  host?: string;
  port?: number;
  /** Upstream trouble, one line each (the client also gets a 502). */
  onWarning?: (line: string) => void;
  /** Answers exchanges in the upstream's place when it returns a response (fork); their bodies are read whole first. */
  respond?: Responder;
}

/**
 * A recording reverse proxy for an agent's LLM and tool calls. Each exchange is one channel:
 * request head, request body chunks, response head, response body chunks as they arrived
 * (SSE and chunked responses stream through, never buffered whole). A dead upstream gets
 * the client a 502 with a one-line JSON error, recorded like any response.
 */
export async function startHttpProxy(writer: TapeWriter, o: HttpProxyOptions): Promise<RecordChannel> {
  if (!o.routes.length && !o.respond) throw new ToolError('E_USAGE', 'no HTTP routes given', 'pass --http PREFIX=URL');
  const agent = new Agent({ keepAliveTimeout: 10_000, connections: 256, pipelining: 1 });
  const ctx = exchangeContext(writer, agent, o.routes, o.onWarning);
  const { state } = ctx;
  let active = 0;
  let seen = 0;
  const server = createServer((req, res) => {
    active++;
    seen++;
    if (o.respond) void answerOrForward(ctx, o.respond, req, res, () => active--);
    else forwardExchange(ctx, req, res, () => active--);
  });
  server.keepAliveTimeout = 10_000;
  return listeningChannel('http', server, o, { active: () => active, seen: () => seen }, async () => {
    state.stopping = true;
    server.closeIdleConnections();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      setTimeout(() => server.closeAllConnections(), 2000).unref();
    });
    await agent.close();
  });
}

