import { newId } from '../engine/ids.js';
import type { CloseInfo } from '../engine/transport/transport.js';
import type { LoggedFrame, LoggedRaw, Msg, RecordedTransport } from './exchange.js';

/** A wait that ran out: names what was awaited. */
export class WaitTimeout extends Error {
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(`no ${what} within ${(ms / 1000).toFixed(1)} s`);
  }
}

/** The check was stopped (its --timeout passed, or the run is ending). */
export class Aborted extends Error {}

export interface Received {
  msg: Msg;
  frame: LoggedFrame;
  /** Arrival index on this connection. */
  i: number;
}

/**
 * One connection as the suite drives it: everything received is kept in order; `waitFor` finds
 * the first message (from an index on) that matches, waiting for it with a bound. No sleeps.
 */
export class Peer {
  readonly received: Received[] = [];
  readonly invalid: LoggedFrame[] = [];
  closeInfo?: CloseInfo;
  readonly closed: Promise<CloseInfo>;
  private waiters = new Set<() => void>();
  private listeners: ((r: Received) => void)[] = [];
  lastSentAt = performance.now();
  lastReceivedAt = performance.now();

  constructor(
    readonly label: string,
    readonly t: RecordedTransport,
    private readonly signal: AbortSignal,
    /** Envelope fields added to every frame this side sends (a fixed session_id, unknown fields). */
    public envelopeExtra: Record<string, unknown> = {},
  ) {
    t.onFrame((raw) => {
      const frame = (raw as LoggedRaw).logged;
      this.lastReceivedAt = performance.now();
      if (frame.msg) {
        const r = { msg: frame.msg, frame, i: this.received.length };
        this.received.push(r);
        for (const l of this.listeners) l(r);
      } else this.invalid.push(frame);
      this.wake();
    });
    this.closed = new Promise((resolve) =>
      t.onClose((info) => {
        this.closeInfo = info;
        this.wake();
        resolve(info);
      }),
    );
    signal.addEventListener('abort', () => this.wake(), { once: true });
  }

  /** Called for every message received from now on (after it is stored). */
  onMessage(cb: (r: Received) => void): void {
    this.listeners.push(cb);
  }

  get isClosed(): boolean {
    return this.closeInfo !== undefined;
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Sends one message (arcp, id filled in unless given); returns the logged frame and its id. */
  send(type: string, payload: Record<string, unknown>, extra: Record<string, unknown> = {}): { id: string; frame: LoggedFrame } {
    const id = (extra.id as string | undefined) ?? newId('msg');
    const env: Record<string, unknown> = { arcp: '1.1', id, type, ...this.envelopeExtra, ...extra, payload };
    return { id, frame: this.sendText(JSON.stringify(env)) };
  }

  sendText(text: string | Buffer, binary = false): LoggedFrame {
    this.lastSentAt = performance.now();
    return this.t.sendLogged(text, { binary });
  }

  /** Index the next received message will get: waits `from` here see only what comes later. */
  get mark(): number {
    return this.received.length;
  }

  find(pred: (m: Msg) => boolean, from = 0): Received | undefined {
    for (let i = from; i < this.received.length; i++) if (pred(this.received[i].msg)) return this.received[i];
    return undefined;
  }

  all(pred: (m: Msg) => boolean, from = 0): Received[] {
    return this.received.slice(from).filter((r) => pred(r.msg));
  }

  /** The first message from `from` on matching `pred`; throws WaitTimeout, or Aborted. */
  waitFor(pred: (m: Msg) => boolean, what: string, ms: number, from = 0): Promise<Received> {
    return this.until(() => this.find(pred, from), what, ms);
  }

  /** Like waitFor, but resolves undefined when the connection closes or the time runs out. */
  async maybe(pred: (m: Msg) => boolean, ms: number, from = 0): Promise<Received | undefined> {
    try {
      return await this.until(() => this.find(pred, from) ?? (this.isClosed ? null : undefined), 'message', ms).then((r) => r ?? undefined);
    } catch (e) {
      if (e instanceof WaitTimeout) return undefined;
      throw e;
    }
  }

  waitClosed(ms: number): Promise<CloseInfo | undefined> {
    return this.until(() => this.closeInfo, 'close', ms).catch((e) => {
      if (e instanceof WaitTimeout) return undefined;
      throw e;
    });
  }

  /** Resolves when `probe` returns something other than undefined; re-probed on every arrival. */
  until<T>(probe: () => T | undefined, what: string, ms: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        if (this.signal.aborted) return done(() => reject(new Aborted('aborted')));
        let v: T | undefined;
        try {
          v = probe();
        } catch (e) {
          return done(() => reject(e));
        }
        if (v !== undefined) done(() => resolve(v as T));
      };
      const timer = setTimeout(() => done(() => reject(new WaitTimeout(what, ms))), ms);
      const done = (f: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        f();
      };
      this.waiters.add(check);
      check();
    });
  }

  close(code = 1000, reason = ''): void {
    this.t.close(code, reason);
  }

  /** Drops the transport without a close handshake. */
  drop(): void {
    this.t.terminate();
  }
}
