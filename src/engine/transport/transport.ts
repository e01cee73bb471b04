import type { RawFrame } from '../codec.js';

export interface CloseInfo {
  code?: number;
  reason?: string;
  /** Set when the transport died rather than closed (socket error, child exit). */
  error?: string;
}

/**
 * The one interface every transport implements. Frames carry their exact bytes;
 * parsing belongs to the codec, so record and replay see what crossed the wire.
 */
export interface Transport {
  readonly kind: 'websocket' | 'stdio' | 'memory';
  send(data: string | Buffer, opts?: { binary?: boolean }): void;
  onFrame(cb: (frame: RawFrame) => void): void;
  onClose(cb: (info: CloseInfo) => void): void;
  close(code?: number, reason?: string): void;
  readonly closed: boolean;
  /** Bytes accepted by send() and not yet handed to the OS: senders of long streams wait when it grows. */
  readonly buffered?: number;
  /** Drops the connection without a close handshake, where the transport has one (replay's drop fault). */
  terminate?(): void;
  /** Batch many sends into few writes (a long replay); uncork() flushes. */
  cork?(): void;
  uncork?(): void;
}

/** Buffers frames and the close until a listener attaches, so none is lost at connect time. */
export abstract class BaseTransport implements Transport {
  abstract readonly kind: Transport['kind'];
  private frameCbs: ((f: RawFrame) => void)[] = [];
  private closeCbs: ((i: CloseInfo) => void)[] = [];
  private pending: RawFrame[] = [];
  private closeInfo?: CloseInfo;
  get closed(): boolean {
    return this.closeInfo !== undefined;
  }
  abstract send(data: string | Buffer, opts?: { binary?: boolean }): void;
  abstract close(code?: number, reason?: string): void;

  onFrame(cb: (frame: RawFrame) => void): void {
    this.frameCbs.push(cb);
    if (this.pending.length) {
      const queued = this.pending;
      this.pending = [];
      for (const f of queued) cb(f);
    }
  }
  onClose(cb: (info: CloseInfo) => void): void {
    if (this.closeInfo) queueMicrotask(() => cb(this.closeInfo!));
    else this.closeCbs.push(cb);
  }
  protected emitFrame(frame: RawFrame): void {
    if (this.frameCbs.length === 0) this.pending.push(frame);
    else for (const cb of this.frameCbs) cb(frame);
  }
  protected emitClose(info: CloseInfo): void {
    if (this.closeInfo) return;
    this.closeInfo = info;
    const cbs = this.closeCbs;
    this.closeCbs = [];
    for (const cb of cbs) cb(info);
  }
}
