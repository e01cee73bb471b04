import { createServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { isSendableCloseCode, WS_MAX_PAYLOAD } from '../engine/transport/websocket.js';
import { ToolError } from '../errors.js';
import type { TapeWriter } from '../tape/writer.js';
import { headerPairs } from '../net/http.js';
import { listeningChannel, trustHint, type RecordChannel } from './channel.js';

export interface WsProxyOptions {
  upstream: string;
  host?: string;
  port?: number;
  /** How long the upstream may take to answer a WebSocket upgrade before the client gets a 504; 10 s by default. */
  upstreamTimeoutMs?: number;
  /** Upstream trouble, one line each (the client also gets it, as an HTTP status). */
  onWarning?: (line: string) => void;
}

/** Handshake headers ws sets itself; everything else (auth, cookies, custom) goes upstream as sent. */
const HANDSHAKE = new Set(['host', 'connection', 'upgrade', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol']);
/** Buffered bytes towards one side before the other side is paused. */
const PAUSE_AT = 8 * 1024 * 1024;
/** How long a stop waits for both close handshakes before it drops the connections. */
const CLOSE_GRACE_MS = 1000;
/** The close the recorder itself sends both sides when it stops, as recorded (`ws.close`, dir `meta`). */
export const RECORDER_CLOSE = { code: 1001, reason: 'recorder stopping', by: 'recorder' } as const;

const TEXT = { binary: false } as const;
const BINARY = { binary: true } as const;
const toBuffer = (d: RawData): Buffer => (Buffer.isBuffer(d) ? d : Array.isArray(d) ? Buffer.concat(d) : Buffer.from(d));

/**
 * A recording WebSocket proxy: each client connection opens its own upstream connection
 * (same path, headers and subprotocols) and becomes one tape channel. Messages are forwarded
 * as the same bytes with the same text/binary opcode; text is not UTF-8 checked, so a
 * malformed frame crosses as sent. Close codes pass both ways.
 */
export async function startWsProxy(writer: TapeWriter, o: WsProxyOptions): Promise<RecordChannel> {
  const upstreamBase = URL.canParse(o.upstream) ? new URL(o.upstream) : undefined;
  if (!upstreamBase || !/^wss?:$/.test(upstreamBase.protocol)) {
    throw new ToolError('E_USAGE', `--upstream "${o.upstream}" is not a ws:// or wss:// URL`, 'e.g. --upstream ws://127.0.0.1:7777');
  }
  let active = 0;
  let seen = 0;
  const server = createServer((_req, res) => res.writeHead(426, { 'content-type': 'text/plain' }).end('arcp record: this port proxies WebSocket connections\n'));
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: WS_MAX_PAYLOAD,
    skipUTF8Validation: true,
    perMessageDeflate: false,
    handleProtocols: (_offered, req) => (req as IncomingMessage & { arcpProtocol?: string }).arcpProtocol || false,
  });
  /** Live pipes: a stop closes each as the recorder's own close. */
  const pipes = new Set<Pipe>();
  /** Upgrades waiting on the upstream: a stop answers them at once. */
  const pending = new Set<(status: number, message: string) => void>();
  let stopping = false;

  server.on('upgrade', (req: IncomingMessage & { arcpProtocol?: string }, socket: Duplex, head: Buffer) => {
    const target = upstreamBase.pathname === '/' ? new URL(req.url ?? '/', upstreamBase).href : upstreamBase.href;
    const pairs = headerPairs(req.rawHeaders);
    const protocols = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter(Boolean);
    const forwarded: Record<string, string> = {};
    for (const [k, v] of pairs) if (!HANDSHAKE.has(k.toLowerCase())) forwarded[k] = v;
    const ch = writer.channel('ws', `ws#${writer.channels + 1} ${req.url ?? '/'}`, { url: req.url, upstream: target, headers: pairs });
    const up = new WebSocket(target, protocols, { headers: forwarded, maxPayload: WS_MAX_PAYLOAD, skipUTF8Validation: true, perMessageDeflate: false });
    let refused = false;
    const refuse = (status: number, message: string) => {
      if (refused) return;
      refused = true;
      settle();
      o.onWarning?.(message);
      writer.event(ch, 'meta', 'transport.error', { error: message, status });
      const body = `arcp record: ${message}\n`;
      socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Upstream Refused'}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      up.terminate();
    };
    const timeoutMs = o.upstreamTimeoutMs ?? 10_000;
    const timer = setTimeout(() => refuse(504, `upstream ${target} did not answer the WebSocket upgrade within ${timeoutMs / 1000} s`), timeoutMs);
    const onStop = (status: number, message: string) => refuse(status, message);
    pending.add(onStop);
    const onSocketError = () => up.terminate();
    const settle = () => {
      clearTimeout(timer);
      pending.delete(onStop);
    };
    let opened = false;
    up.once('unexpected-response', (_r, res) => refuse(res.statusCode ?? 502, `upstream ${target} answered HTTP ${res.statusCode} to the WebSocket upgrade`));
    // ws closes the connection before it emits an error, so readyState cannot tell an error after the upgrade from one before.
    up.once('error', (e) => {
      if (!opened) refuse(502, `upstream ${target} unreachable: ${e.message}${trustHint((e as NodeJS.ErrnoException).code)}`);
    });
    // After the listeners: terminating a connecting upstream emits an error.
    if (stopping) return refuse(503, 'the recorder is stopping');
    socket.once('error', onSocketError);
    up.once('open', () => {
      opened = true;
      if (refused) return;
      settle();
      req.arcpProtocol = up.protocol;
      wss.handleUpgrade(req, socket, head, (client) => {
        // From here on each side's own close says who went away: the raw socket's error must not close the upstream first.
        socket.off('error', onSocketError);
        active++;
        seen++;
        writer.event(ch, 'meta', 'transport.open', { protocol: up.protocol || undefined });
        const p = new Pipe(writer, ch, client, up, () => {
          active--;
          pipes.delete(p);
        });
        pipes.add(p);
      });
    });
  });

  return listeningChannel('ws', server, o, { active: () => active, seen: () => seen }, async () => {
    stopping = true;
    for (const refuse of [...pending]) refuse(503, 'the recorder is stopping');
    await Promise.all([...pipes].map((p) => p.stop()));
    wss.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  });
}

const STATUS_TEXT: Record<number, string> = { 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' };

/**
 * One client connection and its upstream, forwarded both ways. A message is recorded only when
 * it is forwarded, so the tape never holds what the other side did not get. The first close
 * is recorded as a `ws.close` from the side that sent it (or, on a stop, as the recorder's own,
 * dir `meta`), and `transport.close` once both sides are closed.
 */
class Pipe {
  private first?: 'c2s' | 's2c' | 'recorder';
  private closes = 0;
  private readonly ended: Promise<void>;
  private end!: () => void;

  constructor(
    private readonly writer: TapeWriter,
    private readonly ch: number,
    private readonly client: WebSocket,
    private readonly up: WebSocket,
    onEnd: () => void,
  ) {
    this.ended = new Promise<void>((r) => (this.end = r)).then(onEnd);
    this.link(client, up, 'c2s');
    this.link(up, client, 's2c');
  }

  /** The recorder's own close: nothing more crosses; both sides get 1001; dropped if they do not answer in time. */
  async stop(): Promise<void> {
    if (!this.first) {
      this.first = 'recorder';
      this.writer.event(this.ch, 'meta', 'ws.close', RECORDER_CLOSE);
      for (const s of [this.client, this.up]) if (s.readyState === WebSocket.OPEN) s.close(RECORDER_CLOSE.code, RECORDER_CLOSE.reason);
    }
    const late = setTimeout(() => {
      // Bytes the client never took were recorded as sent: the tape says how many did not arrive.
      const undelivered = this.client.bufferedAmount;
      if (undelivered) this.writer.event(this.ch, 'meta', 'transport.error', { error: `the client did not take its last ${undelivered} bytes within ${CLOSE_GRACE_MS} ms of the stop; dropped`, undelivered_bytes: undelivered });
      this.client.terminate();
      this.up.terminate();
    }, CLOSE_GRACE_MS);
    await this.ended;
    clearTimeout(late);
  }

  private link(from: WebSocket, to: WebSocket, dir: 'c2s' | 's2c'): void {
    const writer = this.writer;
    // The first message of a read leaves at once; the rest of that read leaves in one write at
    // the end of the tick: a syscall per read instead of one per message, and no added latency.
    const out = (to as WebSocket & { _socket?: Duplex })._socket;
    let inTick = false;
    let corked = false;
    const endTick = () => {
      inTick = false;
      if (corked) out?.uncork();
      corked = false;
    };
    from.on('message', (data, isBinary) => {
      // Once a close is under way (from either side, or the recorder's), nothing more is forwarded or recorded.
      if (this.first || to.readyState !== WebSocket.OPEN) return;
      if (!inTick) {
        inTick = true;
        process.nextTick(endTick);
      } else if (!corked && out) {
        corked = true;
        out.cork();
      }
      const buf = toBuffer(data);
      to.send(buf, isBinary ? BINARY : TEXT);
      writer.frame(this.ch, dir, isBinary ? 'ws.binary' : 'ws.text', buf);
      if (to.bufferedAmount > PAUSE_AT || writer.congested) this.hold(from, to);
    });
    from.on('close', (code, reason) => {
      this.closes++;
      if (!this.first) {
        this.first = dir;
        writer.event(this.ch, dir, 'ws.close', { code, reason: reason.toString() });
        if (code === 1006) to.terminate();
        else if (isSendableCloseCode(code)) to.close(code, reason);
        else to.close();
      }
      if (this.closes === 2) {
        writer.event(this.ch, 'meta', 'transport.close', { code, reason: reason.toString() });
        this.end();
      }
    });
    from.on('error', (e) => writer.event(this.ch, 'meta', 'transport.error', { error: e.message }));
  }

  private hold(from: WebSocket, to: WebSocket): void {
    if (from.isPaused) return;
    from.pause();
    const timer = setInterval(() => {
      if ((to.bufferedAmount < PAUSE_AT / 8 && !this.writer.congested) || to.readyState !== WebSocket.OPEN) {
        clearInterval(timer);
        from.resume();
      }
    }, 5);
  }
}
