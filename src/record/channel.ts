import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * One way of capturing traffic into a tape: a WebSocket proxy, a stdio wrapper, an HTTP
 * reverse proxy. Each forwards bytes unchanged and hands them to the writer, never waiting on it.
 */
export interface RecordChannel {
  readonly mode: 'ws' | 'stdio' | 'http';
  /** Where clients connect (ws://…, http://…) or what was spawned. */
  readonly address: string;
  /** Live connections or exchanges in progress. */
  readonly active: number;
  /** Resolves when this channel has nothing more to record (a wrapped child exited); listeners never do on their own. */
  readonly done: Promise<void>;
  close(): Promise<void>;
}

/** For a TLS verification failure (the upstream answered with a certificate we do not trust): how to trust it. */
export const trustHint = (code: string | undefined): string =>
  /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(code ?? '') ? ' (set NODE_EXTRA_CA_CERTS=<ca.pem> to trust a private CA)' : '';

/** Header pairs from Node's flat rawHeaders list. */
export function headerPairs(raw: (string | Buffer)[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([String(raw[i]), String(raw[i + 1])]);
  return out;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) and the ones a proxy must set itself. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host']);

/** The headers a proxy passes on, as Node's flat `[name, value, …]` list, in their order and case. */
export function forwardable(pairs: [string, string][]): string[] {
  const out: string[] = [];
  for (const [k, v] of pairs) if (!HOP_BY_HOP.has(k.toLowerCase())) out.push(k, v);
  return out;
}

/** Starts `server` listening (loopback by default); resolves with `host:port` as it goes in a URL. */
export async function listen(server: Server, host = '127.0.0.1', port = 0): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return `${host.includes(':') ? `[${host}]` : host}:${bound}`;
}

/**
 * A proxy channel: `server` listens on host:port until `close()`; it is never done on its own.
 * `active` reports live connections or exchanges in progress.
 */
export async function listeningChannel(mode: 'ws' | 'http', server: Server, at: { host?: string; port?: number }, active: () => number, close: () => Promise<void>): Promise<RecordChannel> {
  const authority = await listen(server, at.host, at.port);
  return {
    mode,
    address: `${mode}://${authority}`,
    get active() {
      return active();
    },
    done: new Promise<void>(() => undefined),
    close,
  };
}

/**
 * Keeps a source paused while anything asks it to wait (a full socket on the far side, a tape
 * writer that fell behind) and resumes it when the last of them lets go.
 */
export class Holds {
  private count = 0;
  constructor(private readonly pause: () => void, private readonly resume: () => void) {}

  /** Pauses the source until `until` calls its release. */
  hold(until: (release: () => void) => void): void {
    if (this.count++ === 0) this.pause();
    until(() => {
      if (--this.count === 0) this.resume();
    });
  }
}
