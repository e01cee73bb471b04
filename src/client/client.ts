import { EventEmitter } from 'node:events';
import { decode, type Decoded } from '../engine/codec.js';
import { ArcpError } from '../engine/errors.js';
import { newId } from '../engine/ids.js';
import { FEATURES } from '../engine/negotiate.js';
import { clientSession } from '../engine/session/machine.js';
import type { Message } from '../engine/schemas/messages.js';
import type { SubmitPayload } from '../engine/schemas/job.js';
import type { Transport } from '../engine/transport/transport.js';
import { connectWebSocket } from '../engine/transport/websocket.js';
import { JobHandle, type JobMessage } from './job-handle.js';

/** `draft`: the 1.1 text's forms (session.resume, session.close); `wire`: the peer SDK's (hello.resume, session.bye). */
export type WireForm = 'draft' | 'wire';

export interface ClientOptions {
  token: string;
  features?: readonly string[] | null;
  client?: { name: string; version: string };
  form?: WireForm;
  autoPong?: boolean;
  /** Send `session.ack` at most this often (ms) when `ack` is negotiated; 0 disables. */
  autoAckMs?: number;
  /** Ping when nothing was sent for half the heartbeat interval, when `heartbeat` is negotiated (§6.4). */
  idlePing?: boolean;
  /**
   * Resume (§6.3) when the transport drops, and when event_seq jumps (§8.3: a gap means the
   * session is broken); frames after a gap are dropped until the resume replays them in order.
   */
  autoResume?: boolean;
  requestTimeoutMs?: number;
}

type Pending =
  | { kind: 'submit'; id: string; handle: JobHandle }
  | { kind: 'list'; id: string; resolve: (p: Message<'session.jobs'>['payload']) => void; reject: (e: ArcpError) => void }
  | { kind: 'subscribe'; id: string; jobId: string; resolve: (h: JobHandle) => void; reject: (e: ArcpError) => void }
  | { kind: 'ping'; id: string; nonce: string; resolve: (p: Message<'session.pong'>['payload']) => void; reject: (e: ArcpError) => void };

export type TransportFactory = () => Promise<Transport>;

/**
 * The reference ARCP client. Sends the draft's forms by default and the wire-notes'
 * forms with `form: 'wire'`; accepts both from any runtime.
 */
export class ArcpClient extends EventEmitter {
  readonly machine = clientSession();
  sessionId?: string;
  resumeToken?: string;
  welcome?: Message<'session.welcome'>['payload'];
  features = new Set<string>();
  lastEventSeq = 0;
  /** Sequence gaps seen (§8.3): each is [expected, got]. */
  readonly gaps: [number, number][] = [];
  readonly jobs = new Map<string, JobHandle>();
  private pending: Pending[] = [];
  private transport!: Transport;
  private welcomeWaiter?: { resolve: () => void; reject: (e: Error) => void };
  private closedWaiter?: () => void;
  private ackTimer?: NodeJS.Timeout;
  private pingTimer?: NodeJS.Timeout;
  private lastSent = 0;
  private ackedSeq = 0;
  private closing = false;
  private brokenByGap = false;
  private resuming?: Promise<void>;
  readonly form: WireForm;

  private constructor(
    private readonly factory: TransportFactory,
    readonly opts: ClientOptions,
  ) {
    super();
    this.form = opts.form ?? 'draft';
  }

  static async connect(target: string | TransportFactory, opts: ClientOptions): Promise<ArcpClient> {
    const factory = typeof target === 'string' ? () => connectWebSocket(target) : target;
    const c = new ArcpClient(factory, opts);
    await c.open(false);
    return c;
  }

  get current(): Transport {
    return this.transport;
  }

  /** Sends a message object as one frame; fills `arcp`, `id` and `session_id`. Returns the id. */
  send(type: string, payload: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
    const id = (extra.id as string) ?? newId('msg');
    const env: Record<string, unknown> = { arcp: '1.1', id, type };
    if (this.sessionId && type !== 'session.hello' && type !== 'session.resume') env.session_id = this.sessionId;
    Object.assign(env, extra, { payload });
    this.transport.send(JSON.stringify(env));
    this.lastSent = Date.now();
    return id;
  }

  private hello(resume: boolean): void {
    const payload: Record<string, unknown> = {
      client: this.opts.client ?? { name: 'arcp-reference-client', version: '0.1.0' },
      auth: { scheme: 'bearer', token: this.opts.token },
    };
    if (this.opts.features !== null) payload.capabilities = { encodings: ['json'], features: [...(this.opts.features ?? FEATURES)] };
    else payload.capabilities = { encodings: ['json'] };
    const r = { session_id: this.sessionId!, resume_token: this.resumeToken!, last_event_seq: this.lastEventSeq };
    if (resume && this.form === 'draft') {
      this.send('session.resume', { ...r, auth: payload.auth });
      return;
    }
    if (resume) payload.resume = r;
    this.send('session.hello', payload);
  }

  private async open(resume: boolean): Promise<void> {
    this.transport = await this.factory();
    this.transport.onFrame((f) => this.onDecoded(decode(f)));
    const t = this.transport;
    t.onClose((info) => {
      if (t !== this.transport) return;
      clearInterval(this.ackTimer);
      clearInterval(this.pingTimer);
      this.welcomeWaiter?.reject(new Error(`transport closed before session.welcome: ${info.error ?? info.reason ?? `code ${info.code}`}`));
      this.closedWaiter?.();
      this.emit('close', info);
      // A drop (no clean close from the runtime) or our own close for a gap is resumed; a clean close ends the session.
      const dropped = this.brokenByGap || info.error !== undefined || info.code !== 1000;
      this.brokenByGap = false;
      if (this.opts.autoResume && !this.closing && this.machine.is('open') && dropped) this.resumeSoon();
    });
    const welcomed = new Promise<void>((resolve, reject) => (this.welcomeWaiter = { resolve, reject }));
    this.hello(resume);
    await this.withTimeout(welcomed, 'session.welcome');
    this.welcomeWaiter = undefined;
  }

  /** Reconnects and resumes (§6.3) from the last event seen; replayed frames reach their jobs. */
  async resume(): Promise<void> {
    if (this.machine.can('resuming')) this.machine.to('resuming');
    if (!this.transport.closed) this.transport.close(1000, 'resuming');
    await this.open(true);
  }

  /** One resume at a time, retried a few times while the runtime is unreachable. */
  private resumeSoon(): void {
    this.resuming ??= (async () => {
      for (let attempt = 0; attempt < 5 && !this.closing; attempt++) {
        try {
          await this.resume();
          this.emit('resumed');
          return;
        } catch (e) {
          if (e instanceof ArcpError) {
            this.emit('resume-failed', e);
            return;
          }
          await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
        }
      }
    })().finally(() => (this.resuming = undefined));
  }

  private withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
    const ms = this.opts.requestTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout;
    return Promise.race([
      p,
      new Promise<T>((_, rej) => {
        timer = setTimeout(() => rej(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  submit(payload: SubmitPayload, extra: Record<string, unknown> = {}): JobHandle {
    const handle = new JobHandle();
    const id = this.send('job.submit', payload as Record<string, unknown>, extra);
    this.pending.push({ kind: 'submit', id, handle });
    return handle;
  }

  cancel(jobId: string, reason = 'cancelled by client'): void {
    this.send('job.cancel', { reason }, { job_id: jobId });
  }

  listJobs(payload: Message<'session.list_jobs'>['payload'] = {}): Promise<Message<'session.jobs'>['payload']> {
    return this.withTimeout(
      new Promise((resolve, reject) => {
        const id = this.send('session.list_jobs', payload as Record<string, unknown>);
        this.pending.push({ kind: 'list', id, resolve, reject });
      }),
      'session.jobs',
    );
  }

  /** Resolves once `job.subscribed` arrives; the handle then carries history and live events. */
  subscribe(jobId: string, opts: { history?: boolean; from_event_seq?: number } = {}): Promise<JobHandle> {
    return this.withTimeout(
      new Promise((resolve, reject) => {
        const handle = this.jobs.get(jobId) ?? new JobHandle(true);
        handle.jobId = jobId;
        this.jobs.set(jobId, handle);
        const id = this.send('job.subscribe', { job_id: jobId, ...opts });
        this.pending.push({ kind: 'subscribe', id, jobId, resolve: () => resolve(handle), reject });
      }),
      'job.subscribed',
    );
  }

  unsubscribe(jobId: string): void {
    this.send('job.unsubscribe', { job_id: jobId });
  }

  ping(): Promise<Message<'session.pong'>['payload']> {
    return this.withTimeout(
      new Promise((resolve, reject) => {
        const nonce = newId('ping');
        const id = this.send('session.ping', { nonce, sent_at: new Date().toISOString() });
        this.pending.push({ kind: 'ping', id, nonce, resolve, reject });
      }),
      'session.pong',
    );
  }

  ack(seq = this.lastEventSeq): void {
    this.ackedSeq = seq;
    this.send('session.ack', { last_processed_seq: seq });
  }

  /** Closes the session: `session.close` and its `session.closed` (draft), or `session.bye` (wire). */
  async close(reason = 'client done'): Promise<void> {
    this.closing = true;
    await this.resuming;
    clearInterval(this.ackTimer);
    clearInterval(this.pingTimer);
    if (this.transport.closed) return;
    if (this.machine.can('closing')) this.machine.to('closing');
    const closed = new Promise<void>((r) => (this.closedWaiter = r));
    if (this.form === 'draft') this.send('session.close', { reason });
    else this.send('session.bye', { reason });
    // The wait is cleared once answered: a pending timer kept `arcp submit` alive 2 s after its job.
    let wait: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise((r) => (wait = setTimeout(r, 2000)))]);
    clearTimeout(wait);
    if (!this.transport.closed) this.transport.close(1000, reason);
    if (this.machine.can('closed')) this.machine.to('closed');
  }

  private takePending<K extends Pending['kind']>(kind: K, match?: (p: Extract<Pending, { kind: K }>) => boolean): Extract<Pending, { kind: K }> | undefined {
    const i = this.pending.findIndex((p) => p.kind === kind && (!match || match(p as Extract<Pending, { kind: K }>)));
    return i < 0 ? undefined : (this.pending.splice(i, 1)[0] as Extract<Pending, { kind: K }>);
  }

  private rejectPending(p: Pending, err: ArcpError, m?: Message<'job.error'>): void {
    if (p.kind === 'submit') p.handle.markRejected(err, m);
    else p.reject(err);
  }

  private onDecoded(d: Decoded): void {
    this.emit('frame', d);
    if (!d.ok) {
      this.emit('invalid', d);
      return;
    }
    if (d.vendor) return;
    const m = d.message;
    if (m.event_seq !== undefined && !this.noteSeq(m.event_seq)) return;
    switch (m.type) {
      case 'session.welcome':
        this.sessionId = m.session_id;
        this.resumeToken = m.payload.resume_token;
        this.welcome = m.payload;
        this.features = new Set(m.payload.capabilities?.features ?? []);
        if (!this.machine.is('open')) this.machine.to('open');
        this.startAutoAck();
        this.startIdlePing();
        this.welcomeWaiter?.resolve();
        return;
      case 'session.ping':
        if (this.opts.autoPong !== false) this.send('session.pong', { ping_nonce: m.payload.nonce, received_at: new Date().toISOString() });
        this.emit('ping', m);
        return;
      case 'session.pong': {
        const p = this.takePending('ping', (x) => x.nonce === m.payload.ping_nonce);
        p?.resolve(m.payload);
        return;
      }
      case 'session.closed':
        this.closedWaiter?.();
        return;
      case 'session.jobs': {
        const p = this.takePending('list', (x) => x.id === m.payload.request_id) ?? this.takePending('list');
        p?.resolve(m.payload);
        return;
      }
      case 'session.error': {
        const err = ArcpError.fromBody(m.payload);
        if (this.welcomeWaiter) return this.welcomeWaiter.reject(err);
        // Our runtime names the request (details.request_id) or the decode stage; the peer SDK
        // names neither, so its errors answer the oldest outstanding request.
        const details = m.payload.details ?? {};
        const i =
          details.request_id !== undefined ? this.pending.findIndex((p) => p.id === details.request_id)
          : details.stage !== undefined ? -1
          : this.pending.findIndex((p) => p.kind !== 'ping');
        if (i >= 0) this.rejectPending(this.pending.splice(i, 1)[0], err);
        else this.emit('session-error', err);
        return;
      }
      case 'job.accepted':
        return this.onAccepted(m);
      case 'job.subscribed': {
        const p = this.takePending('subscribe', (x) => x.jobId === m.payload.job_id);
        p?.resolve(this.jobs.get(m.payload.job_id)!);
        return;
      }
      case 'job.event':
      case 'job.result':
      case 'job.error':
      case 'job.cancelled':
        return this.onJobMessage(m as JobMessage);
      default:
        this.emit('unexpected', m);
    }
  }

  /** Tracks event_seq; false when the frame must not be delivered (a repeat, or past a gap being resumed). */
  private noteSeq(seq: number): boolean {
    if (seq <= this.lastEventSeq) return !this.opts.autoResume;
    if (this.lastEventSeq > 0 && seq !== this.lastEventSeq + 1) {
      this.gaps.push([this.lastEventSeq + 1, seq]);
      this.emit('gap', this.lastEventSeq + 1, seq);
      if (this.opts.autoResume) {
        // The session is broken (§8.3): drop the transport; its close handler resumes from the last seq in order.
        if (!this.resuming && !this.closing && !this.brokenByGap) {
          this.brokenByGap = true;
          this.transport.close(1000, `event_seq gap: expected ${this.lastEventSeq + 1}, got ${seq}`);
        }
        return false;
      }
    }
    this.lastEventSeq = seq;
    return true;
  }

  private startIdlePing(): void {
    clearInterval(this.pingTimer);
    const sec = this.welcome?.heartbeat_interval_sec;
    if (!this.opts.idlePing || !this.features.has('heartbeat') || typeof sec !== 'number' || sec <= 0) return;
    this.lastSent = Date.now();
    this.pingTimer = setInterval(() => {
      if (!this.transport.closed && Date.now() - this.lastSent >= sec * 500) this.send('session.ping', { nonce: newId('ping'), sent_at: new Date().toISOString() });
    }, Math.max(50, sec * 250));
    this.pingTimer.unref();
  }

  private onAccepted(m: Message<'job.accepted'>): void {
    const jobId = m.payload.job_id;
    if (m.payload.parent_job_id) {
      const child = this.jobs.get(jobId) ?? new JobHandle();
      this.jobs.set(jobId, child);
      child.markAccepted(m);
      this.jobs.get(m.payload.parent_job_id)?.children.push(child);
      this.emit('child', child);
      return;
    }
    const p = this.takePending('submit');
    const handle = this.jobs.get(jobId) ?? p?.handle ?? new JobHandle();
    if (p && p.handle !== handle) p.handle.markAccepted(m);
    this.jobs.set(jobId, handle);
    handle.markAccepted(m);
  }

  private onJobMessage(m: JobMessage): void {
    const jobId = m.job_id!;
    if (m.type === 'job.error') {
      const reqId = m.payload.details?.request_id;
      const bySubmit = reqId ? this.takePending('submit', (x) => x.id === reqId) : undefined;
      const pendingSubmit = bySubmit ?? (!this.jobs.has(jobId) || m.payload.code === 'DUPLICATE_KEY' ? this.takePending('submit') : undefined);
      if (pendingSubmit) return pendingSubmit.handle.markRejected(ArcpError.fromBody(m.payload), m as Message<'job.error'>);
    }
    const handle = this.jobs.get(jobId);
    if (handle) handle.push(m);
    else this.emit('orphan', m);
  }

  private startAutoAck(): void {
    clearInterval(this.ackTimer);
    const every = this.opts.autoAckMs ?? 0;
    if (!every || !this.features.has('ack')) return;
    this.ackTimer = setInterval(() => {
      if (this.lastEventSeq > this.ackedSeq && !this.transport.closed) this.ack();
    }, every);
    this.ackTimer.unref();
  }
}
