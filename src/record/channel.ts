import type { Server } from 'node:http';
import { listen } from '../net/http.js';

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
  /** Connections (ws, stdio) or exchanges (http) seen so far. */
  readonly seen: number;
  /** Resolves when this channel has nothing more to record (a wrapped child exited); listeners never do on their own. */
  readonly done: Promise<void>;
  close(): Promise<void>;
}

/** For a TLS verification failure (the upstream answered with a certificate we do not trust): how to trust it. */
export const trustHint = (code: string | undefined): string =>
  /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(code ?? '') ? ' (set NODE_EXTRA_CA_CERTS=<ca.pem> to trust a private CA)' : '';

/**
 * A proxy channel: `server` listens on host:port until `close()`; it is never done on its own.
 * `count` reports live connections or exchanges in progress, and how many were seen so far.
 */
export async function listeningChannel(mode: 'ws' | 'http', server: Server, at: { host?: string; port?: number }, count: { active(): number; seen(): number }, close: () => Promise<void>): Promise<RecordChannel> {
  const authority = await listen(server, at.host, at.port);
  return {
    mode,
    address: `${mode}://${authority}`,
    get active() {
      return count.active();
    },
    get seen() {
      return count.seen();
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
