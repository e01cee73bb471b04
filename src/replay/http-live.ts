import { rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent } from 'undici';
import { exchangeContext, forwardExchange, type ExchangeContext, type HttpRoute } from '../record/http-exchange.js';
import { rewriteTape } from '../tape/copy.js';
import { defaultRules } from '../tape/redact.js';
import { TapeWriter } from '../tape/writer.js';
import type { Exchange, HttpMode } from './http-player.js';

/**
 * The live side of replay's record and passthrough modes: requests the tape does not answer
 * (or, in `update`, every request) go to the upstream through the recording proxy's own
 * exchange code, into a side tape. `commit()` then writes the tape anew with those exchanges
 * appended (and, in `update`, the ones they replace left out); `passthrough` keeps nothing.
 */
export class LiveForwarder {
  private forwarded = 0;
  private readonly replaced = new Set<number>();

  private constructor(
    private readonly tape: string,
    private readonly side: string,
    private readonly mode: Exclude<HttpMode, 'replay'>,
    private readonly ctx: ExchangeContext,
  ) {}

  static async start(tape: string, exchanges: Exchange[], mode: Exclude<HttpMode, 'replay'>, upstreams: HttpRoute[]): Promise<LiveForwarder> {
    const side = `${tape}.live-${process.pid}`;
    const writer = await TapeWriter.create({ path: side, force: true, commandLine: ['arcp', 'replay', tape, '--http-mode', mode], redaction: defaultRules() });
    const agent = new Agent({ keepAliveTimeout: 10_000, connections: 64, pipelining: 1 });
    return new LiveForwarder(tape, side, mode, exchangeContext(writer, agent, upstreams.length ? upstreams : recordedRoutes(exchanges)));
  }

  /** Sends one request on (its body already read, `raw`); `replaces` is the recorded exchange an `update` re-records. */
  forward(req: IncomingMessage, res: ServerResponse, raw: Buffer, replaces?: Exchange): void {
    this.forwarded++;
    if (replaces && this.mode === 'update') this.replaced.add(replaces.channel);
    forwardExchange(this.ctx, req, res, undefined, raw);
  }

  async stop(): Promise<void> {
    this.ctx.state.stopping = true;
    await this.ctx.agent.close();
  }

  async commit(): Promise<string[]> {
    const summary = await this.ctx.writer.close();
    try {
      if (this.mode === 'passthrough') return this.forwarded ? [`forwarded ${this.forwarded} unmatched request(s) to the upstream; not recorded (--http-mode passthrough)`] : [];
      if (!this.forwarded) return [];
      const s = await rewriteTape({ tape: this.tape, skip: this.replaced, append: this.side });
      return [`recorded ${summary.channels} exchange(s) into ${this.tape}${this.replaced.size ? `, replacing ${this.replaced.size}` : ''} (--http-mode ${this.mode}); its fingerprint is now ${s.fingerprint}`];
    } finally {
      for (const suffix of ['', '-wal', '-shm']) rmSync(this.side + suffix, { force: true });
    }
  }
}

/** The routes the tape was recorded through: its exchanges' prefixes and upstreams. */
function recordedRoutes(exchanges: Exchange[]): HttpRoute[] {
  const routes = new Map<string, string>();
  for (const e of exchanges) if (e.request.upstream) routes.set(e.route ?? '/', e.request.upstream);
  return [...routes].map(([prefix, upstream]) => ({ prefix, upstream }));
}
