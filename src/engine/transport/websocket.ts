import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { BaseTransport } from './transport.js';

const toBuffer = (d: RawData): Buffer =>
  Buffer.isBuffer(d) ? d : Array.isArray(d) ? Buffer.concat(d) : Buffer.from(d as ArrayBuffer);

/** Large enough for the 16 MiB frames a recorder must carry; policy limits live above. */
export const WS_MAX_PAYLOAD = 256 * 1024 * 1024;

/**
 * Close codes an endpoint may put in a close frame (RFC 6455 §7.4). 1005 (no status), 1006
 * (abnormal) and 1015 (TLS failure) only report what happened; other unlisted codes are invalid.
 */
export const isSendableCloseCode = (code: number): boolean => (code >= 1000 && code <= 1014 && ![1004, 1005, 1006].includes(code)) || (code >= 3000 && code <= 4999);

/** What closing "as `code`" does on the wire: send it, close with no status (the peer sees 1005), or drop the TCP connection (1006). */
export function closeAction(code: number | undefined): 'send' | 'no-status' | 'drop' {
  if (code === 1006) return 'drop';
  return code !== undefined && isSendableCloseCode(code) ? 'send' : 'no-status';
}

export class WebSocketTransport extends BaseTransport {
  readonly kind = 'websocket' as const;
  constructor(readonly socket: WebSocket) {
    super();
    socket.on('message', (data, isBinary) => this.emitFrame({ data: toBuffer(data), binary: isBinary }));
    socket.on('close', (code, reason) => this.emitClose({ code, reason: reason.toString() }));
    socket.on('error', (err) => {
      this.emitClose({ code: 1006, error: err.message });
    });
  }
  send(data: string | Buffer, opts?: { binary?: boolean }): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    this.socket.send(data, { binary: opts?.binary ?? false });
  }
  /**
   * Closes with `code`. A code that only reports (1005, 1006, 1015, or one outside RFC 6455)
   * becomes what it reports: a close frame without a status, or a dropped connection for 1006.
   */
  close(code = 1000, reason = ''): void {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    const action = closeAction(code);
    if (this.socket.readyState === WebSocket.CONNECTING || action === 'drop') this.socket.terminate();
    else if (action === 'no-status') this.socket.close();
    else this.socket.close(code, reason);
  }
  get buffered(): number {
    return this.socket.bufferedAmount;
  }
  cork(): void {
    (this.socket as unknown as { _socket?: { cork(): void } })._socket?.cork();
  }
  uncork(): void {
    (this.socket as unknown as { _socket?: { uncork(): void } })._socket?.uncork();
  }
  /** Drops the TCP connection without a close frame (tests of resume after a drop). */
  terminate(): void {
    this.socket.terminate();
  }
}

export interface ConnectOptions {
  headers?: Record<string, string>;
  protocols?: string[];
  timeoutMs?: number;
  skipUTF8Validation?: boolean;
}

export function connectWebSocket(url: string, opts: ConnectOptions = {}): Promise<WebSocketTransport> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, opts.protocols ?? [], {
      headers: opts.headers,
      maxPayload: WS_MAX_PAYLOAD,
      handshakeTimeout: opts.timeoutMs ?? 10_000,
      skipUTF8Validation: opts.skipUTF8Validation,
    });
    const t = new WebSocketTransport(ws);
    ws.once('open', () => resolve(t));
    ws.once('error', (e) => reject(e));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upstream answered HTTP ${res.statusCode}`)));
  });
}

export interface WsListener {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

export interface ListenOptions {
  host?: string;
  port?: number;
  /** Subprotocol selection; the default accepts the client's first offer. */
  handleProtocols?: (protocols: Set<string>, req: IncomingMessage) => string | false;
  /** Pass text frames that are not valid UTF-8 through (record and replay carry them as they are). */
  skipUTF8Validation?: boolean;
}

/** Listens for WebSocket connections on any path; each connection becomes a Transport. */
export function listenWebSocket(
  opts: ListenOptions,
  onConnection: (t: WebSocketTransport, req: IncomingMessage) => void,
): Promise<WsListener> {
  const host = opts.host ?? '127.0.0.1';
  const server = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('ARCP speaks WebSocket here\n');
  });
  const wss = new WebSocketServer({ server, maxPayload: WS_MAX_PAYLOAD, handleProtocols: opts.handleProtocols, skipUTF8Validation: opts.skipUTF8Validation });
  wss.on('connection', (ws, req) => onConnection(new WebSocketTransport(ws), req));
  // ws re-emits the server's errors on wss; a failed listen is reported through the promise below.
  wss.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      const port = (server.address() as AddressInfo).port;
      const h = host.includes(':') ? `[${host}]` : host;
      resolve({
        url: `ws://${h}:${port}`,
        port,
        server,
        close: () =>
          new Promise<void>((res) => {
            for (const c of wss.clients) c.terminate();
            wss.close();
            server.close(() => res());
            server.closeAllConnections?.();
          }),
      });
    });
  });
}
