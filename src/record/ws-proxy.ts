import { createServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { WS_MAX_PAYLOAD } from '../engine/transport/websocket.js';
import { ToolError } from '../errors.js';
import type { TapeWriter } from '../tape/writer.js';
import { headerPairs, listeningChannel, trustHint, type RecordChannel } from './channel.js';

export interface WsProxyOptions {
  upstream: string;
  host?: string;
  port?: number;
  /** Upstream trouble, one line each (the client also gets it, as an HTTP status). */
  onWarning?: (line: string) => void;
}

/** Handshake headers ws sets itself; everything else (auth, cookies, custom) goes upstream as sent. */
const HANDSHAKE = new Set(['host', 'connection', 'upgrade', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol']);
/** Buffered bytes towards one side before the other side is paused. */
const PAUSE_AT = 8 * 1024 * 1024;

const TEXT = { binary: false } as const;
const BINARY = { binary: true } as const;
const toBuffer = (d: RawData): Buffer => (Buffer.isBuffer(d) ? d : Array.isArray(d) ? Buffer.concat(d) : Buffer.from(d));

/** Close codes a peer may send (RFC 6455 §7.4): others are reported but cannot be forwarded as such. */
const sendable = (code: number): boolean => (code >= 1000 && code <= 1014 && ![1004, 1005, 1006].includes(code)) || (code >= 3000 && code <= 4999);

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
  const server = createServer((_req, res) => res.writeHead(426, { 'content-type': 'text/plain' }).end('arcp record: this port proxies WebSocket connections\n'));
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: WS_MAX_PAYLOAD,
    skipUTF8Validation: true,
    perMessageDeflate: false,
    handleProtocols: (_offered, req) => (req as IncomingMessage & { arcpProtocol?: string }).arcpProtocol || false,
  });
  const sockets = new Set<WebSocket>();
  /** Pipes still open: close() waits for their close handshakes, so the tape gets them. */
  const pipes = new Set<Promise<void>>();

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
      o.onWarning?.(message);
      writer.event(ch, 'meta', 'transport.error', { error: message, status });
      const body = `arcp record: ${message}\n`;
      socket.end(`HTTP/1.1 ${status} ${status === 502 ? 'Bad Gateway' : 'Upstream Refused'}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    };
    up.once('unexpected-response', (_r, res) => {
      refuse(res.statusCode ?? 502, `upstream ${target} answered HTTP ${res.statusCode} to the WebSocket upgrade`);
      up.terminate();
    });
    up.once('error', (e) => {
      if (up.readyState !== WebSocket.OPEN) refuse(502, `upstream ${target} unreachable: ${e.message}${trustHint((e as NodeJS.ErrnoException).code)}`);
    });
    socket.once('error', () => up.terminate());
    up.once('open', () => {
      req.arcpProtocol = up.protocol;
      wss.handleUpgrade(req, socket, head, (client) => {
        active++;
        sockets.add(client).add(up);
        writer.event(ch, 'meta', 'transport.open', { protocol: up.protocol || undefined });
        const ended = new Promise<void>((resolve) =>
          pipe(writer, ch, client, up, () => {
            active--;
            sockets.delete(client);
            sockets.delete(up);
            pipes.delete(ended);
            resolve();
          }),
        );
        pipes.add(ended);
      });
    });
  });

  return listeningChannel('ws', server, o, () => active, async () => {
    for (const s of sockets) if (s.readyState === WebSocket.OPEN) s.close(1001, 'recorder stopping');
    const late = setTimeout(() => {
      for (const s of sockets) s.terminate();
    }, 1000);
    await Promise.all([...pipes]);
    clearTimeout(late);
    wss.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  });
}

/** Forwards both ways; the first close is recorded as a ws.close frame from the side that sent it. */
function pipe(writer: TapeWriter, ch: number, client: WebSocket, up: WebSocket, onEnd: () => void): void {
  let closed = false;
  const link = (from: WebSocket, to: WebSocket, dir: 'c2s' | 's2c') => {
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
      if (!inTick) {
        inTick = true;
        process.nextTick(endTick);
      } else if (!corked && out) {
        corked = true;
        out.cork();
      }
      const buf = toBuffer(data);
      to.send(buf, isBinary ? BINARY : TEXT);
      writer.frame(ch, dir, isBinary ? 'ws.binary' : 'ws.text', buf);
      if (to.bufferedAmount > PAUSE_AT || writer.congested) hold(from, to);
    });
    from.on('close', (code, reason) => {
      if (!closed) {
        closed = true;
        writer.event(ch, dir, 'ws.close', { code, reason: reason.toString() });
        if (code === 1006) to.terminate();
        else if (sendable(code)) to.close(code, reason);
        else to.close();
      } else {
        writer.event(ch, 'meta', 'transport.close', { code, reason: reason.toString() });
        onEnd();
      }
    });
    from.on('error', (e) => writer.event(ch, 'meta', 'transport.error', { error: e.message }));
  };
  link(client, up, 'c2s');
  link(up, client, 's2c');

  function hold(from: WebSocket, to: WebSocket): void {
    if (from.isPaused) return;
    from.pause();
    const timer = setInterval(() => {
      if ((to.bufferedAmount < PAUSE_AT / 8 && !writer.congested) || to.readyState !== WebSocket.OPEN) {
        clearInterval(timer);
        from.resume();
      }
    }, 5);
  }
}
