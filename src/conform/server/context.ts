import type { ExchangeRecorder, Msg } from '../exchange.js';
import { Peer, WaitTimeout, type Received } from '../peer.js';
import { Judge, Skip } from '../verdict.js';
import { SuiteSession, type HelloOptions } from './session.js';
import { stderrTail, type ServerTarget } from './target.js';

/** What the suite learnt from one full hello before the checks ran. */
export interface Probe {
  welcome: Msg;
  /** Features the runtime acknowledged to a hello offering every feature. */
  features: string[];
  /** Agent names the welcome advertised (undefined: it advertised none, so hosting is tried, not assumed). */
  agents?: { name: string; versions: string[]; default?: string }[];
  heartbeatSec?: number;
  resumeWindowSec?: number;
}

export interface ServerRunOptions {
  target: ServerTarget;
  token: string;
  token2?: string;
  observerToken?: string;
  /** Profile agent name → the runtime's name for it. */
  agents: Record<string, string>;
  /** Per-reply wait: how long a runtime may take to answer a request. */
  waitMs: number;
}

export type ResumeOutcome =
  | { ok: true; form: 'draft' | 'v1.0'; welcome: Received; peer: Peer; from: number }
  | { ok: false; form: 'draft' | 'v1.0'; error?: Received; peer: Peer; why: string };

/** Everything a server check uses: connections recorded into its tape, sessions, a judge. */
export class ServerContext {
  readonly judge = new Judge();
  private labels = 0;
  private cleanups: (() => void)[] = [];
  readonly peers: Peer[] = [];

  constructor(
    readonly opts: ServerRunOptions,
    readonly probe: Probe,
    readonly recorder: ExchangeRecorder,
    readonly signal: AbortSignal,
    /** performance.now() by which the check must be done (--timeout). */
    readonly deadline = Number.POSITIVE_INFINITY,
  ) {}

  /** Time left before --timeout stops this check. */
  remainingMs(): number {
    return this.deadline - performance.now();
  }

  get waitMs(): number {
    return this.opts.waitMs;
  }

  onCleanup(f: () => void): void {
    this.cleanups.push(f);
  }

  cleanup(): void {
    for (const f of this.cleanups.splice(0)) f();
    for (const p of this.peers) if (!p.isClosed) p.close(1000, 'check done');
  }

  /** The runtime's name for a profile agent. */
  agent(profileName: string): string {
    return this.opts.agents[profileName] ?? profileName;
  }

  /** A new connection, recorded as the next label (A, B, …); one that cannot open skips the check. */
  async connect(label?: string): Promise<Peer> {
    const name = label ?? String.fromCharCode(65 + this.labels);
    try {
      return await this.open(label);
    } catch (e) {
      throw new Skip(`cannot open connection ${name} to ${this.opts.target.describe}: ${(e as Error).message}`);
    }
  }

  /** Like connect, but a failure to connect is thrown as it is. */
  async open(label?: string): Promise<Peer> {
    const name = label ?? String.fromCharCode(65 + this.labels++);
    const t = await this.opts.target.connect();
    const rt = this.recorder.attach(t, name, this.opts.target.info());
    const peer = new Peer(name, rt, this.signal);
    this.peers.push(peer);
    return peer;
  }

  /** Sends a hello on `peer` and waits for the welcome or the refusal. */
  async hello(peer: Peer, s: SuiteSession, extra: Record<string, unknown> = {}): Promise<Received> {
    const from = peer.mark;
    peer.send('session.hello', s.helloPayload(), extra);
    try {
      return await peer.waitFor((m) => m.type === 'session.welcome' || m.type === 'session.error', 'session.welcome', this.waitMs, from);
    } catch (e) {
      if (e instanceof WaitTimeout && peer.isClosed) {
        const tail = stderrTail(peer.t.inner);
        throw new Skip(`the runtime closed connection ${peer.label} without a welcome${tail ? ` (stderr: ${tail})` : ''}`);
      }
      throw e;
    }
  }

  /** An open session; a refused hello is a precondition this check cannot reach. */
  async session(o: HelloOptions = {}): Promise<SuiteSession> {
    const s = new SuiteSession(this, o.token ?? this.opts.token, o);
    const peer = await this.connect(o.label);
    s.adopt(peer);
    const r = await this.hello(peer, s, o.extra);
    if (r.msg.type !== 'session.welcome') throw new Skip(`precondition: the runtime refused the hello (${r.msg.payload.code}: ${r.msg.payload.message})`);
    s.welcomed(r.msg);
    return s;
  }

  /**
   * Resumes `s` on a new connection: the draft's `session.resume` first; if the runtime does not
   * know it, the v1.0 form (`session.hello` with `payload.resume`) that the reference SDK uses.
   */
  async resume(s: SuiteSession, o: { lastSeq?: number; token?: string } = {}): Promise<ResumeOutcome> {
    const request = { session_id: s.id, resume_token: o.token ?? s.resumeToken, last_event_seq: o.lastSeq ?? s.lastSeq };
    let peer = await this.connect();
    let from = peer.mark;
    peer.send('session.resume', { ...request, auth: { scheme: 'bearer', token: s.token } });
    const answer = (m: Msg) => m.type === 'session.welcome' || m.type === 'session.error';
    let r = await peer.maybe(answer, this.waitMs, from);
    let form: 'draft' | 'v1.0' = 'draft';
    if (!r || (r.msg.type === 'session.error' && r.msg.payload.code === 'INVALID_REQUEST')) {
      form = 'v1.0';
      if (peer.isClosed) peer = await this.connect();
      from = peer.mark;
      peer.send('session.hello', s.helloPayload(request));
      r = await peer.maybe(answer, this.waitMs, from);
    }
    if (r?.msg.type === 'session.welcome') {
      s.stopPinging();
      s.adopt(peer);
      s.welcomed(r.msg);
      return { ok: true, form, welcome: r, peer, from };
    }
    return { ok: false, form, error: r, peer, why: r ? `${r.msg.payload.code}: ${r.msg.payload.message}` : peer.isClosed ? 'the runtime closed the connection' : 'no answer' };
  }

  /** Skips unless the runtime hosts every named profile agent (when its welcome lists agents). */
  requireAgents(...names: string[]): void {
    const inv = this.probe.agents;
    if (!inv) return;
    for (const n of names) {
      if (!inv.some((a) => a.name === this.agent(n))) throw new Skip(`agent \`${this.agent(n)}\` not hosted`);
    }
  }

  skip(reason: string): never {
    throw new Skip(reason);
  }
}
