import { FEATURES } from '../../engine/negotiate.js';
import { newId } from '../../engine/ids.js';
import type { Msg } from '../exchange.js';
import { Peer, WaitTimeout, type Received } from '../peer.js';
import type { ServerContext } from './context.js';

/** The suite offers every feature the draft names unless a check says otherwise. */
export const ALL_FEATURES: readonly string[] = FEATURES;

export const TERMINAL = new Set(['job.result', 'job.error']);
const isError = (m: Msg) => m.type === 'session.error' || m.type === 'job.error';

export interface HelloOptions {
  token?: string;
  /** Features to offer; `null` sends a hello without a features list. */
  features?: readonly string[] | null;
  label?: string;
  /** Answer the runtime's pings (default on). */
  autoPong?: boolean;
  /** Ping when idle while heartbeat is negotiated, so the runtime never sees a silent client (default on). */
  autoPing?: boolean;
  /** Extra envelope fields on the hello (unknown-field checks). */
  extra?: Record<string, unknown>;
}

export interface SubmitOutcome {
  /** The submit frame's envelope id. */
  id: string;
  sent: Received['frame'];
  accepted?: Received;
  /** A rejection: job.error (the draft's form) or session.error (v1.0 form). */
  rejected?: Received;
  jobId?: string;
}

/**
 * One ARCP session as the suite drives it, across the connections resume opens. It answers
 * pings (and pings when idle) so no check loses its session to heartbeat loss by accident.
 */
export class SuiteSession {
  readonly peers: Peer[] = [];
  id!: string;
  welcome!: Msg;
  resumeToken!: string;
  /** The effective feature set (§6.2): what the hello offered that the welcome listed. */
  features = new Set<string>();
  offered: readonly string[] | null = null;
  /** Answers already paired with a submit. */
  private claimed = new Set<Msg>();
  private pinger?: NodeJS.Timeout;

  constructor(
    private readonly ctx: ServerContext,
    readonly token: string,
    private o: HelloOptions,
  ) {
    this.o = { ...o };
  }

  get peer(): Peer {
    return this.peers[this.peers.length - 1];
  }

  /** Every message of this session, over every connection, in arrival order. */
  get received(): Received[] {
    return this.peers.flatMap((p) => p.received);
  }

  /** Highest event_seq received on this session. */
  get lastSeq(): number {
    let max = 0;
    for (const r of this.received) if (typeof r.msg.event_seq === 'number' && r.msg.event_seq > max) max = r.msg.event_seq;
    return max;
  }

  has(feature: string): boolean {
    return this.features.has(feature);
  }

  adopt(peer: Peer): void {
    this.peers.push(peer);
    if (this.o.autoPong !== false) {
      peer.onMessage((r) => {
        if (r.msg.type === 'session.ping' && !peer.isClosed) {
          peer.send('session.pong', { ping_nonce: r.msg.payload.nonce, received_at: new Date().toISOString() }, this.sessionField());
        }
      });
    }
  }

  sessionField(): Record<string, unknown> {
    return this.id ? { session_id: this.id } : {};
  }

  helloPayload(resume?: Record<string, unknown>): Record<string, unknown> {
    const features = this.o.features === undefined ? ALL_FEATURES : this.o.features;
    const payload: Record<string, unknown> = {
      client: { name: 'arcp-conform', version: '0.1.0' },
      auth: { scheme: 'bearer', token: this.token },
      capabilities: features === null ? { encodings: ['json'] } : { encodings: ['json'], features },
    };
    if (resume) payload.resume = resume;
    return payload;
  }

  /** Applies a welcome: session id, token, the effective features. */
  welcomed(w: Msg): void {
    this.welcome = w;
    this.id = w.session_id;
    this.resumeToken = w.payload.resume_token;
    const offered = this.o.features === undefined ? ALL_FEATURES : this.o.features;
    this.offered = offered;
    const acked: string[] = Array.isArray(w.payload.capabilities?.features) ? w.payload.capabilities.features : [];
    this.features = new Set(offered ? acked.filter((f) => offered.includes(f)) : []);
    this.startPinger();
  }

  private startPinger(): void {
    clearInterval(this.pinger);
    const sec = this.welcome.payload.heartbeat_interval_sec;
    if (this.o.autoPing === false || !this.has('heartbeat') || typeof sec !== 'number' || sec <= 0) return;
    const every = Math.max(100, sec * 250);
    this.pinger = setInterval(() => {
      const p = this.peer;
      if (p.isClosed) return;
      if (performance.now() - p.lastSentAt > sec * 400) this.send('session.ping', { nonce: newId('ping'), sent_at: new Date().toISOString() });
    }, every);
    this.pinger.unref();
    this.ctx.onCleanup(() => clearInterval(this.pinger));
  }

  /** Back to answering pings and pinging when idle (after a check kept the session silent). */
  keepAlive(): void {
    this.o.autoPong = true;
    this.o.autoPing = true;
  }

  stopPinging(): void {
    clearInterval(this.pinger);
  }

  send(type: string, payload: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    return this.peer.send(type, payload, { ...this.sessionField(), ...extra });
  }

  /** Submits and waits for its answer: job.accepted, or a rejection (job.error / session.error). */
  async submit(payload: Record<string, unknown>, extra: Record<string, unknown> = {}, ms = this.ctx.waitMs): Promise<SubmitOutcome> {
    const p = this.peer;
    const from = p.mark;
    const known = new Set(this.received.filter((r) => r.msg.type === 'job.accepted').map((r) => r.msg.payload.job_id));
    const { id, frame } = this.send('job.submit', payload, extra);
    const r = await p.waitFor(
      (m) => {
        if (m.type === 'job.accepted') return !m.payload.parent_job_id && !this.claimed.has(m);
        if (m.type === 'job.error') return m.payload.details?.request_id === id || (!known.has(m.job_id) && !this.received.some((x) => x.msg.type === 'job.accepted' && x.msg.payload.job_id === m.job_id));
        if (m.type === 'session.error') return m.payload.details?.request_id === undefined || m.payload.details.request_id === id;
        return false;
      },
      `answer to job.submit ${payload.agent as string}`,
      ms,
      from,
    );
    this.claimed.add(r.msg);
    if (r.msg.type === 'job.accepted') return { id, sent: frame, accepted: r, jobId: r.msg.payload.job_id ?? r.msg.job_id };
    return { id, sent: frame, rejected: r, jobId: r.msg.job_id };
  }

  /** Messages of one job (envelope job_id), over every connection, in arrival order. */
  jobMessages(jobId: string): Received[] {
    return this.received.filter((r) => r.msg.job_id === jobId || (r.msg.type === 'job.accepted' && r.msg.payload.job_id === jobId));
  }

  events(jobId: string): Received[] {
    return this.jobMessages(jobId).filter((r) => r.msg.type === 'job.event');
  }

  /** The job's terminal message (job.result / job.error), waiting on the current connection. */
  async terminal(jobId: string, ms = this.ctx.waitMs, what = 'job.result or job.error'): Promise<Received> {
    const seen = this.jobMessages(jobId).find((r) => TERMINAL.has(r.msg.type));
    if (seen) return seen;
    return this.peer.waitFor((m) => m.job_id === jobId && TERMINAL.has(m.type), `${what} for ${jobId}`, ms);
  }

  async maybeTerminal(jobId: string, ms: number): Promise<Received | undefined> {
    try {
      return await this.terminal(jobId, ms);
    } catch (e) {
      if (e instanceof WaitTimeout) return undefined;
      throw e;
    }
  }

  /** Waits for a job event matching `pred` (kind, body). */
  event(jobId: string, pred: (m: Msg) => boolean, what: string, ms = this.ctx.waitMs): Promise<Received> {
    const seen = this.events(jobId).find((r) => pred(r.msg));
    if (seen) return Promise.resolve(seen);
    return this.peer.waitFor((m) => m.type === 'job.event' && m.job_id === jobId && pred(m), what, ms);
  }

  /** A request answered by a message of `type` (or an error naming it, or the next error). */
  async request(type: string, payload: Record<string, unknown>, answer: (m: Msg, id: string) => boolean, what: string, extra: Record<string, unknown> = {}, ms = this.ctx.waitMs): Promise<{ id: string; sent: Received['frame']; reply: Received }> {
    const from = this.peer.mark;
    const { id, frame } = this.send(type, payload, extra);
    const reply = await this.peer.waitFor(
      (m) => answer(m, id) || (isError(m) && (m.payload.details?.request_id === id || (m.type === 'session.error' && m.payload.details?.request_id === undefined))),
      what,
      ms,
      from,
    );
    return { id, sent: frame, reply };
  }

  listJobs(payload: Record<string, unknown> = {}) {
    return this.request('session.list_jobs', payload, (m, id) => m.type === 'session.jobs' && m.payload.request_id === id, 'session.jobs');
  }

  subscribe(payload: Record<string, unknown>) {
    return this.request(
      'job.subscribe',
      payload,
      (m) => m.type === 'job.subscribed' && m.payload.job_id === payload.job_id,
      'job.subscribed',
    );
  }

  ping(nonce = newId('p')) {
    return this.request('session.ping', { nonce, sent_at: new Date().toISOString() }, (m) => m.type === 'session.pong' && m.payload.ping_nonce === nonce, 'session.pong');
  }

  ack(seq: number) {
    return this.send('session.ack', { last_processed_seq: seq });
  }

  cancel(jobId: string, reason = 'conformance check') {
    return this.send('job.cancel', { reason }, { job_id: jobId });
  }

  /** Drops the transport with no close handshake: what a network failure looks like to the runtime. */
  drop(): void {
    this.stopPinging();
    this.peer.drop();
  }
}
