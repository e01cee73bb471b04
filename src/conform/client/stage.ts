import { FEATURES } from '../../engine/negotiate.js';
import { newId, newToken } from '../../engine/ids.js';
import { listenWebSocket, type WsListener } from '../../engine/transport/websocket.js';
import type { Transport } from '../../engine/transport/transport.js';
import type { ExchangeRecorder, LoggedFrame, Msg } from '../exchange.js';
import { Peer, WaitTimeout, type Received } from '../peer.js';

/** The suite's runtime plays every feature the draft names; a scenario may acknowledge fewer. */
export const STAGE_FEATURES: readonly string[] = FEATURES;

export interface StageOptions {
  token: string;
  /** Features the welcome may acknowledge (intersected with the client's offer). */
  features?: readonly string[];
  heartbeatSec?: number;
  /** Envelope fields added to every frame the suite sends (unknown-fields scenario). */
  envelopeExtra?: Record<string, unknown>;
  /** How long the client may take to connect and say hello. */
  startMs?: number;
}

/** What the suite's runtime learnt of the client's session: facts the checks judge. */
export interface SessionFacts {
  id: string;
  tokens: string[];
  offered: string[] | null;
  features: string[];
  /** Every resume attempt: its form, what it presented, what it should have presented. */
  resumes: { form: 'draft' | 'v1.0' | 'fresh-hello'; lastSeq?: number; token?: string; expectedSeq: number; expectedToken: string; frame: LoggedFrame }[];
  /** How the client ended the session, if it did. */
  closedWith?: 'session.close' | 'session.bye';
}

/**
 * The runtime side of one client scenario: listens on loopback, records every connection, answers
 * hello, pings, close and resume (numbering its sequenced frames and keeping them for replay), and
 * lets the scenario script drive the rest.
 */
export class Stage {
  private listener?: WsListener;
  private conns: Peer[] = [];
  private arrivals: (() => void)[] = [];
  session?: SessionFacts;
  private seq = 0;
  private buffer: { seq: number; text: string }[] = [];
  private labels = 0;
  private delivered = new Map<Peer, number>();
  private taken = new Set<Msg>();
  /** Sequence numbers to skip when they come up (the gap scenario). */
  skipSeqs = new Set<number>();
  readonly facts: Record<string, unknown> = {};

  constructor(
    readonly recorder: ExchangeRecorder,
    readonly o: StageOptions,
    readonly signal: AbortSignal,
  ) {}

  async listen(): Promise<string> {
    this.listener = await listenWebSocket({ host: '127.0.0.1', port: 0 }, (t) => this.adopt(t));
    return this.listener.url;
  }

  /** A connection from a client that talks through a transport we did not listen for (stdio, --listen). */
  adopt(t: Transport): void {
    const label = String.fromCharCode(65 + this.labels++);
    const peer = new Peer(label, this.recorder.attach(t, label), this.signal, this.o.envelopeExtra ?? {});
    peer.onMessage((r) => this.control(peer, r));
    this.conns.push(peer);
    for (const a of this.arrivals.splice(0)) a();
  }

  get current(): Peer | undefined {
    return this.conns[this.conns.length - 1];
  }

  get all(): Peer[] {
    return this.conns;
  }

  /** Waits for a connection after the `n`th. */
  async connection(n: number, ms: number): Promise<Peer> {
    if (this.conns.length > n) return this.conns[n];
    await new Promise<void>((resolve, reject) => {
      const stop = () => {
        clearTimeout(t);
        reject(new WaitTimeout('a connection from the client', ms));
      };
      const t = setTimeout(stop, ms);
      this.arrivals.push(() => {
        clearTimeout(t);
        this.signal.removeEventListener('abort', stop);
        resolve();
      });
      this.signal.addEventListener('abort', stop, { once: true });
    });
    return this.conns[n];
  }

  /** Pings get pongs; close and bye end the session, whatever the script is doing. */
  private control(peer: Peer, r: Received): void {
    const m = r.msg;
    if (m.type === 'session.ping') this.send(peer, 'session.pong', { ping_nonce: m.payload?.nonce, received_at: new Date().toISOString() });
    else if (m.type === 'session.close' && this.session) {
      this.session.closedWith = 'session.close';
      this.send(peer, 'session.closed', { reason: m.payload?.reason ?? 'client closed' });
      peer.close(1000, 'session closed');
    } else if (m.type === 'session.bye' && this.session) {
      this.session.closedWith = 'session.bye';
      peer.close(1000, 'bye');
    }
  }

  send(peer: Peer, type: string, payload: Record<string, unknown>, extra: Record<string, unknown> = {}): LoggedFrame | undefined {
    if (peer.isClosed) return undefined;
    const sid = this.session ? { session_id: this.session.id } : {};
    return peer.send(type, payload, { ...sid, ...extra }).frame;
  }

  /** A sequenced frame (job.event / job.result / job.error), numbered in the session's space and kept for resume. */
  sendSeq(type: string, jobId: string, payload: Record<string, unknown>): number {
    let seq = ++this.seq;
    while (this.skipSeqs.has(seq)) seq = ++this.seq;
    const env = { arcp: '1.1', id: newId('msg'), type, session_id: this.session?.id, job_id: jobId, event_seq: seq, ...this.o.envelopeExtra, payload };
    const text = JSON.stringify(env);
    this.buffer.push({ seq, text });
    const p = this.current;
    if (p && !p.isClosed) {
      p.sendText(text);
      this.delivered.set(p, seq);
    }
    return seq;
  }

  event(jobId: string, kind: string, body: Record<string, unknown>): number {
    return this.sendSeq('job.event', jobId, { kind, ts: new Date().toISOString(), body });
  }

  /** The highest seq sent, counting skipped ones. */
  get lastSeq(): number {
    return this.seq;
  }

  /** Sends the frames of seqs in `seqs` that were skipped (fills a gap on resume). */
  fill(): void {
    for (const s of [...this.skipSeqs].sort((a, b) => a - b)) {
      const before = this.buffer.findIndex((b) => b.seq > s);
      const text = JSON.stringify({ arcp: '1.1', id: newId('msg'), type: 'job.event', session_id: this.session?.id, job_id: this.facts.gapJob, event_seq: s, ...this.o.envelopeExtra, payload: { kind: 'log', ts: new Date().toISOString(), body: { level: 'info', message: `seq ${s}` } } });
      this.buffer.splice(before < 0 ? this.buffer.length : before, 0, { seq: s, text });
    }
    this.skipSeqs.clear();
  }

  private welcome(peer: Peer, s: SessionFacts): LoggedFrame | undefined {
    const token = newToken('rt');
    s.tokens.push(token);
    const payload: Record<string, unknown> = {
      runtime: { name: 'arcp-conform-stage', version: '0.1.0' },
      resume_token: token,
      resume_window_sec: 60,
    };
    if (s.offered !== null && s.features.includes('heartbeat')) payload.heartbeat_interval_sec = this.o.heartbeatSec ?? 30;
    const caps: Record<string, unknown> = { encodings: ['json'] };
    if (s.offered !== null) caps.features = s.features;
    caps.agents = [
      { name: 'echo', versions: [] },
      { name: 'flood', versions: [] },
      { name: 'report', versions: [] },
      { name: 'ticker', versions: [] },
    ];
    payload.capabilities = caps;
    return this.send(peer, 'session.welcome', payload);
  }

  /**
   * Waits for the client's hello on connection `n` and welcomes it; a wrong token is refused.
   * The first one may take as long as the scenario may (`startMs`): a client process starts slowly.
   */
  async hello(n = 0, ms = this.o.startMs ?? 10_000): Promise<{ peer: Peer; hello: Received }> {
    const peer = await this.connection(n, ms);
    const hello = await peer.waitFor((m) => m.type === 'session.hello' || m.type === 'session.resume', 'session.hello', ms);
    const p = hello.msg.payload ?? {};
    if (p.auth?.token !== this.o.token) {
      this.send(peer, 'session.error', { code: 'UNAUTHENTICATED', message: 'unknown bearer token', retryable: false });
      this.facts.badToken = p.auth?.token === undefined ? 'missing' : 'wrong';
      peer.close(1008, 'unauthenticated');
      throw new WaitTimeout('a hello with ARCP_TOKEN', ms);
    }
    const offered: string[] | null = Array.isArray(p.capabilities?.features) ? p.capabilities.features : null;
    const allowed = this.o.features ?? STAGE_FEATURES;
    this.session = { id: newId('sess'), tokens: [], offered, features: offered ? allowed.filter((f) => offered.includes(f)) : [], resumes: [] };
    this.welcome(peer, this.session);
    return { peer, hello };
  }

  /**
   * Waits for the client to come back on a new connection after a drop. Either resume form is
   * answered with a welcome (same session, a new token) and the frames after last_event_seq.
   */
  async resumed(ms: number): Promise<SessionFacts['resumes'][number] | undefined> {
    const s = this.session!;
    const n = this.conns.length;
    let peer: Peer;
    try {
      peer = await this.connection(n, ms);
    } catch {
      return undefined;
    }
    const r = await peer.maybe((m) => m.type === 'session.hello' || m.type === 'session.resume', ms);
    if (!r) return undefined;
    const req = r.msg.type === 'session.resume' ? r.msg.payload : r.msg.payload?.resume;
    const entry: SessionFacts['resumes'][number] = {
      form: r.msg.type === 'session.resume' ? 'draft' : req ? 'v1.0' : 'fresh-hello',
      lastSeq: req?.last_event_seq,
      token: req?.resume_token,
      expectedSeq: this.deliveredBefore(n),
      expectedToken: s.tokens[s.tokens.length - 1],
      frame: r.frame,
    };
    s.resumes.push(entry);
    if (!req || req.session_id !== s.id || !s.tokens.includes(req.resume_token)) {
      this.send(peer, 'session.error', { code: 'RESUME_WINDOW_EXPIRED', message: 'unknown session or resume_token', retryable: false });
      peer.close(1000, 'resume refused');
      return entry;
    }
    this.welcome(peer, s);
    for (const b of this.buffer) {
      if (b.seq <= req.last_event_seq) continue;
      peer.sendText(b.text);
      this.delivered.set(peer, b.seq);
    }
    return entry;
  }

  /** The highest seq delivered on connections before the `n`th. */
  private deliveredBefore(n: number): number {
    return Math.max(0, ...this.conns.slice(0, n).map((p) => this.delivered.get(p) ?? 0));
  }

  /** The next client message of `type` (and `pred`) on the current connection that no earlier call took. */
  async next(type: string, ms: number, pred: (m: Msg) => boolean = () => true): Promise<Received> {
    const p = this.current!;
    const r = await p.waitFor((m) => m.type === type && pred(m) && !this.taken.has(m), type, ms);
    this.taken.add(r.msg);
    return r;
  }

  /** Accepts a job.submit: job.accepted with a fresh job id. */
  accept(submit: Received, extra: Record<string, unknown> = {}): string {
    const jobId = newId('job');
    this.send(this.current!, 'job.accepted', { job_id: jobId, agent: submit.msg.payload?.agent, lease: submit.msg.payload?.lease_request ?? {}, accepted_at: new Date().toISOString(), ...extra }, { job_id: jobId });
    return jobId;
  }

  drop(): void {
    this.current?.drop();
  }

  async close(): Promise<void> {
    for (const p of this.conns) if (!p.isClosed) p.close(1000, 'scenario over');
    await this.listener?.close();
  }
}
