import { BaseTransport } from './transport.js';

/** In-process transport pair: each side's send is the other's frame, delivered asynchronously. */
export class MemoryTransport extends BaseTransport {
  readonly kind = 'memory' as const;
  peer?: MemoryTransport;
  send(data: string | Buffer, opts?: { binary?: boolean }): void {
    const peer = this.peer;
    if (this.closed || !peer || peer.closed) return;
    const frame = { data: typeof data === 'string' ? Buffer.from(data) : Buffer.from(data), binary: opts?.binary ?? false };
    setImmediate(() => peer.closed || peer.emitFrame(frame));
  }
  close(code = 1000, reason = ''): void {
    const peer = this.peer;
    this.emitClose({ code, reason });
    if (peer) setImmediate(() => peer.emitClose({ code, reason }));
  }
  static pair(): [MemoryTransport, MemoryTransport] {
    const a = new MemoryTransport();
    const b = new MemoryTransport();
    a.peer = b;
    b.peer = a;
    return [a, b];
  }
}
