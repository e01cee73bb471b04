import type { Transport } from '../engine/transport/transport.js';
import { runtimeSession } from '../engine/session/machine.js';
import { newId, newToken } from '../engine/ids.js';
import { envelope, type OutMessage } from './wire.js';
import type { RuntimeJob } from './job.js';

export interface SessionLimits {
  heartbeatIntervalSec: number;
  resumeWindowSec: number;
  backPressureLag: number;
  /** Upper bound on buffered sequenced frames, whatever the acks say (§6.5 "buffer-count limits"). */
  maxBuffered: number;
}

/** Unsent bytes on a session's connection beyond which its jobs pace themselves. */
const HIGH_WATER = 1024 * 1024;

interface Buffered {
  seq: number;
  text: string;
}

/** Runtime side of one session: its seq space, resume buffer, heartbeats and ack state. */
export class RuntimeSession {
  readonly id = newId('sess');
  readonly machine = runtimeSession();
  resumeToken = newToken('rt');
  transport?: Transport;
  seq = 0;
  ackedSeq = 0;
  private buffer: Buffered[] = [];
  private backPressured = false;
  readonly subscriptions = new Map<string, RuntimeJob>();
  private seenIds = new Set<string>();
  private lastSent = Date.now();
  private lastReceived = Date.now();
  private heartbeat?: NodeJS.Timeout;
  private expiry?: NodeJS.Timeout;

  constructor(
    readonly principal: string,
    readonly features: Set<string>,
    readonly limits: SessionLimits,
    private readonly onExpire: (s: RuntimeSession) => void,
    private readonly onBackPressure: (s: RuntimeSession, jobId: string, lag: number) => void,
  ) {}

  has(feature: string): boolean {
    return this.features.has(feature);
  }

  attach(t: Transport): void {
    if (this.transport && this.transport !== t) this.transport.close(1000, 'session resumed elsewhere');
    this.transport = t;
    if (this.machine.is('detached')) this.machine.to('open');
    clearTimeout(this.expiry);
    this.lastReceived = Date.now();
    if (this.has('heartbeat')) this.startHeartbeat();
  }

  detach(t: Transport): void {
    if (this.transport !== t) return;
    this.transport = undefined;
    clearInterval(this.heartbeat);
    if (this.machine.is('open')) this.machine.to('detached');
    this.expiry = setTimeout(() => this.expire(), this.limits.resumeWindowSec * 1000);
    this.expiry.unref();
  }

  expire(): void {
    if (this.machine.is('closed')) return;
    clearInterval(this.heartbeat);
    clearTimeout(this.expiry);
    this.machine.to('closed');
    this.buffer = [];
    this.onExpire(this);
  }

  rotateToken(): string {
    this.resumeToken = newToken('rt');
    return this.resumeToken;
  }

  /** Transport-level dedupe (§7.2 v1.0): the same envelope id is processed once. */
  firstSighting(id: string): boolean {
    this.lastReceived = Date.now();
    if (this.seenIds.has(id)) return false;
    this.seenIds.add(id);
    if (this.seenIds.size > 4096) this.seenIds.delete(this.seenIds.values().next().value as string);
    return true;
  }

  /** Unsequenced control message. */
  send(m: OutMessage): void {
    this.write(JSON.stringify(envelope({ ...m, session_id: this.id })));
  }

  /**
   * Whether a job should wait before emitting more: the connection holds more than HIGH_WATER
   * bytes unsent, or the session is detached and its resume buffer is full (more would evict
   * events a resuming client still needs).
   */
  congested(): boolean {
    if (this.machine.is('closed')) return false;
    if (!this.transport) return this.buffer.length >= this.limits.maxBuffered;
    return (this.transport.buffered ?? 0) > HIGH_WATER;
  }

  /** `job.event` / `job.result` / `job.error`: numbered, buffered for resume. Returns the seq. */
  sendSequenced(m: OutMessage): number {
    const seq = ++this.seq;
    // An expired session has no one to deliver to, now or on resume.
    if (this.machine.is('closed')) return seq;
    const text = JSON.stringify(envelope({ ...m, session_id: this.id }, seq));
    this.buffer.push({ seq, text });
    if (this.buffer.length > this.limits.maxBuffered) this.buffer.shift();
    this.write(text);
    if (m.type === 'job.event' && m.job_id && this.has('ack')) this.checkLag(m.job_id);
    return seq;
  }

  private checkLag(jobId: string): void {
    const lag = this.seq - this.ackedSeq;
    if (!this.backPressured && lag > this.limits.backPressureLag) {
      this.backPressured = true;
      this.onBackPressure(this, jobId, lag);
    }
  }

  /** §6.5: frees acknowledged frames; lag below half the threshold re-arms the signal. */
  ack(lastProcessed: number): void {
    if (lastProcessed <= this.ackedSeq) return;
    this.ackedSeq = Math.min(lastProcessed, this.seq);
    let drop = 0;
    while (drop < this.buffer.length && this.buffer[drop].seq <= this.ackedSeq) drop++;
    if (drop) this.buffer.splice(0, drop);
    if (this.seq - this.ackedSeq <= this.limits.backPressureLag / 2) this.backPressured = false;
  }

  /** Frames after `lastEventSeq`, or undefined when the buffer no longer covers it (gap). */
  replayAfter(lastEventSeq: number): string[] | undefined {
    if (lastEventSeq > this.seq) return undefined;
    const first = this.buffer.length ? this.buffer[0].seq : this.seq + 1;
    if (lastEventSeq + 1 < first) return undefined;
    return this.buffer.filter((b) => b.seq > lastEventSeq).map((b) => b.text);
  }

  writeRaw(text: string): void {
    this.write(text);
  }

  private write(text: string): void {
    if (!this.transport || this.transport.closed) return;
    this.lastSent = Date.now();
    this.transport.send(text);
  }

  private startHeartbeat(): void {
    clearInterval(this.heartbeat);
    const intervalMs = this.limits.heartbeatIntervalSec * 1000;
    this.heartbeat = setInterval(() => {
      const t = this.transport;
      if (!t) return;
      const now = Date.now();
      if (now - this.lastReceived > 2 * intervalMs) {
        // §6.4: the peer is gone; jobs keep running and the session stays resumable.
        this.send({
          type: 'session.error',
          payload: { code: 'HEARTBEAT_LOST', message: `no message for ${now - this.lastReceived} ms`, retryable: true },
        });
        t.close(1001, 'heartbeat lost');
        return;
      }
      if (now - this.lastSent >= intervalMs * 0.9) {
        this.send({ type: 'session.ping', payload: { nonce: newId('ping'), sent_at: new Date(now).toISOString() } });
      }
    }, Math.max(50, intervalMs / 2));
    this.heartbeat.unref();
  }

  shutdown(): void {
    clearInterval(this.heartbeat);
    clearTimeout(this.expiry);
  }
}
