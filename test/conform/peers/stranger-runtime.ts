import { decode } from '../../../src/engine/codec.js';
import { parseAgentRef, resolveAgent, type AgentInventory } from '../../../src/engine/agent-ref.js';
import { ArcpError, toArcpError } from '../../../src/engine/errors.js';
import { newId, newToken, newTraceId } from '../../../src/engine/ids.js';
import { authorize, BudgetCounters, deriveChildLease, validateExpiresAt, type LeaseGuardState } from '../../../src/engine/lease.js';
import { TRACE_ID } from '../../../src/engine/schemas/envelope.js';
import type { Transport } from '../../../src/engine/transport/transport.js';
import { listenWebSocket, type WebSocketTransport, type WsListener } from '../../../src/engine/transport/websocket.js';
import { StreamedResult, type AgentContext, type AgentDefinition } from '../../../src/runtime/agent.js';
import { CONFORMANCE_AGENTS } from '../../../src/runtime/agents/index.js';

type Obj = Record<string, any>;

export interface StrangerOptions {
  /** bearer token → principal. */
  tokens: Record<string, string>;
  heartbeatSec?: number;
  resumeWindowSec?: number;
  /** observer principal → owners whose jobs it may see. */
  observers?: Record<string, string[]>;
  backPressureLag?: number;
}

/** The reference SDK closes sockets without a status code (the peer sees 1005). */
function closeNoCode(t: Transport): void {
  const ws = (t as WebSocketTransport).socket;
  if (ws) ws.close();
  else t.close();
}

export const FEATURES = ['heartbeat', 'ack', 'list_jobs', 'subscribe', 'lease_expires_at', 'cost.budget', 'model.use', 'provisioned_credentials', 'progress', 'result_chunk', 'agent_versions'];
const TERMINAL = new Set(['success', 'error', 'cancelled', 'timed_out']);

export interface Conn {
  t: Transport;
  sess?: Sess;
  /** How the transport ended: `drop` when it died without a close handshake. */
  ended?: 'drop' | 'close';
}

export interface Sess {
  id: string;
  principal: string;
  offered: string[] | null;
  features: Set<string>;
  token: string;
  seq: number;
  buffer: { seq: number; text: string }[];
  acked: number;
  conn?: Conn;
  lastIn: number;
  lastOut: number;
  backPressured: boolean;
  jobs: Set<Job>;
  expiry?: NodeJS.Timeout;
  timer?: NodeJS.Timeout;
}

export interface Job extends LeaseGuardState {
  id: string;
  agent: string;
  version?: string;
  principal: string;
  owner: Sess;
  subscribers: Set<Sess>;
  status: string;
  createdAt: string;
  traceId: string;
  constraints?: Obj;
  credentials?: Obj[];
  accepted?: Obj;
  parent?: Job;
  delegateId?: string;
  /** Sequenced messages in the owner's seq space, for subscription history. */
  history: { seq: number; msg: Obj }[];
  abort: AbortController;
  timeout?: NodeJS.Timeout;
  done: Promise<{ result?: unknown; error?: ArcpError }>;
  settle: (v: { result?: unknown; error?: ArcpError }) => void;
  lastSeq: number;
}

/**
 * A runtime written for the tests, apart from the reference runtime: it speaks the forms the
 * public TypeScript reference SDK puts on the wire (wire-notes.md): resume inside session.hello,
 * session.bye with no reply and no close code, session.error (also for unavailable versions and
 * reused keys), history before job.subscribed, {allowed_models, max_spend} credential
 * constraints, 32-hex trace ids (a frame whose trace_id is a full traceparent is dropped), and it
 * finishes none of its own jobs early. Broken variants override one protected method each.
 */
export class StrangerRuntime {
  readonly sessions = new Map<string, Sess>();
  readonly jobs = new Map<string, Job>();
  private readonly idem = new Map<string, { job: Job; params: string }>();
  private readonly agents = new Map<string, AgentDefinition>(CONFORMANCE_AGENTS.map((a) => [a.name, a]));
  private readonly inventory: AgentInventory[] = CONFORMANCE_AGENTS.map((a) => ({ name: a.name, versions: a.versions ? Object.keys(a.versions) : [], ...(a.default ? { default: a.default } : {}) }));
  private listener?: WsListener;
  private conns = new Set<Conn>();
  readonly heartbeatSec: number;
  readonly resumeWindowSec: number;

  constructor(readonly o: StrangerOptions) {
    this.heartbeatSec = o.heartbeatSec ?? 0.5;
    this.resumeWindowSec = o.resumeWindowSec ?? 60;
  }

  async start(): Promise<string> {
    this.listener = await listenWebSocket({ host: '127.0.0.1', port: 0 }, (t) => this.connection(t));
    return this.listener.url;
  }

  async stop(): Promise<void> {
    for (const j of this.jobs.values()) j.abort.abort();
    for (const s of this.sessions.values()) {
      clearInterval(s.timer);
      clearTimeout(s.expiry);
    }
    await this.listener?.close();
  }

  // ---- connections -------------------------------------------------------------------------

  private connection(t: Transport): void {
    const c: Conn = { t };
    this.conns.add(c);
    t.onClose((info) => {
      c.ended = info.code === 1006 || info.error ? 'drop' : 'close';
      this.conns.delete(c);
      if (c.sess && c.sess.conn === c) this.detach(c.sess, c);
    });
    t.onFrame((f) => {
      const d = decode(f);
      if (!d.ok) return this.sessionError(c, new ArcpError('INVALID_REQUEST', d.error.message));
      const m = d.message as Obj;
      // The reference SDK drops frames of another version or with a full traceparent, silently.
      if (m.arcp !== '1.1' || (typeof m.trace_id === 'string' && !TRACE_ID.test(m.trace_id))) return;
      if (!this.acceptEnvelope(m)) return this.sessionError(c, new ArcpError('INVALID_REQUEST', 'unexpected envelope fields'));
      if (d.vendor) return m.extensions?.optional === true ? undefined : this.sessionError(c, new ArcpError('INVALID_REQUEST', `unsupported vendor message ${m.type}`));
      if (c.sess) c.sess.lastIn = Date.now();
      try {
        if (!c.sess) this.opening(c, m);
        else this.dispatch(c, c.sess, m);
      } catch (e) {
        this.sessionError(c, toArcpError(e));
      }
    });
  }

  /** Unknown top-level envelope fields are ignored (§5). */
  protected acceptEnvelope(_m: Obj): boolean {
    return true;
  }

  private opening(c: Conn, m: Obj): void {
    if (m.type !== 'session.hello') throw new ArcpError('INVALID_REQUEST', `expected session.hello, got ${m.type}`);
    const p = m.payload;
    const principal = this.principalOf(p.auth?.token);
    if (principal === undefined) return this.sessionError(c, new ArcpError('UNAUTHENTICATED', 'Unknown bearer token'));
    if (p.resume) return this.resume(c, p.resume, principal);
    const offered: string[] | null = Array.isArray(p.capabilities?.features) ? p.capabilities.features : null;
    const s: Sess = { id: newId('sess'), principal, offered, features: new Set(offered ? FEATURES.filter((f) => offered.includes(f)) : []), token: newToken('rt'), seq: 0, buffer: [], acked: 0, lastIn: Date.now(), lastOut: Date.now(), backPressured: false, jobs: new Set() };
    this.sessions.set(s.id, s);
    this.attach(s, c);
    this.send(s, { type: 'session.welcome', payload: this.welcomePayload(s) });
  }

  protected principalOf(token: string | undefined): string | undefined {
    return token === undefined ? undefined : this.o.tokens[token];
  }

  protected welcomeFeatures(s: Sess): string[] {
    return [...s.features];
  }

  private welcomePayload(s: Sess): Obj {
    const p: Obj = { runtime: { name: 'stranger-runtime', version: '1.0.0' }, resume_token: s.token, resume_window_sec: this.resumeWindowSec };
    if (s.offered !== null && s.features.has('heartbeat')) p.heartbeat_interval_sec = this.heartbeatSec;
    p.capabilities = s.offered !== null ? { encodings: ['json'], features: this.welcomeFeatures(s), agents: this.inventory } : { encodings: ['json'], agents: this.inventory };
    return p;
  }

  private attach(s: Sess, c: Conn): void {
    if (s.conn && s.conn !== c) closeNoCode(s.conn.t);
    s.conn = c;
    c.sess = s;
    clearTimeout(s.expiry);
    s.lastIn = Date.now();
    clearInterval(s.timer);
    if (s.features.has('heartbeat')) s.timer = setInterval(() => this.heartbeat(s), Math.max(50, this.heartbeatSec * 250));
  }

  private detach(s: Sess, c: Conn): void {
    s.conn = undefined;
    clearInterval(s.timer);
    s.expiry = setTimeout(() => this.sessions.delete(s.id), this.resumeWindowSec * 1000);
    this.onDetach(s, c);
  }

  /** What happens to the session's jobs when its transport goes: nothing, they run on (§6.4, §6.7). */
  protected onDetach(_s: Sess, _c: Conn): void {}

  private heartbeat(s: Sess): void {
    const c = s.conn;
    if (!c) return;
    const now = Date.now();
    if (now - s.lastIn > 2 * this.heartbeatSec * 1000) {
      this.send(s, { type: 'session.error', payload: { code: 'HEARTBEAT_LOST', message: 'no traffic for two intervals', retryable: true } });
      this.onHeartbeatLost(s);
      closeNoCode(c.t);
      return;
    }
    if (now - s.lastOut >= this.heartbeatSec * 700) this.send(s, { type: 'session.ping', payload: { nonce: newId('msg'), sent_at: new Date().toISOString() } });
  }

  protected onHeartbeatLost(_s: Sess): void {}

  private resume(c: Conn, r: Obj, principal: string): void {
    const s = this.sessions.get(r.session_id);
    if (!s || s.token !== r.resume_token || s.principal !== principal) return this.sessionError(c, new ArcpError('RESUME_WINDOW_EXPIRED', 'Invalid or unknown resume_token'), r.session_id);
    const first = s.buffer[0]?.seq ?? s.seq + 1;
    if (r.last_event_seq > s.seq || r.last_event_seq + 1 < first) return this.sessionError(c, new ArcpError('RESUME_WINDOW_EXPIRED', 'the buffer no longer covers last_event_seq'), s.id);
    s.token = this.rotate(s);
    this.attach(s, c);
    this.send(s, { type: 'session.welcome', payload: this.welcomePayload(s) });
    for (const b of s.buffer) if (b.seq > r.last_event_seq) this.write(s, b.text);
  }

  /** A fresh token on every welcome (§6.3). */
  protected rotate(_s: Sess): string {
    return newToken('rt');
  }

  // ---- sending -----------------------------------------------------------------------------

  private env(s: Sess | undefined, m: Obj, seq?: number): Obj {
    const out: Obj = { arcp: '1.1', id: newId('msg'), type: m.type };
    if (s) out.session_id = s.id;
    if (m.job_id) out.job_id = m.job_id;
    if (m.trace_id) out.trace_id = m.trace_id;
    if (seq !== undefined) out.event_seq = seq;
    out.payload = m.payload;
    return out;
  }

  private write(s: Sess, text: string): void {
    const c = s.conn;
    if (!c || c.t.closed) return;
    s.lastOut = Date.now();
    c.t.send(text);
  }

  send(s: Sess, m: Obj): void {
    this.write(s, JSON.stringify(this.env(s, m)));
  }

  private sessionError(c: Conn, e: ArcpError, sessionId?: string): void {
    const env: Obj = { arcp: '1.1', id: newId('msg'), type: 'session.error' };
    if (sessionId ?? c.sess?.id) env.session_id = sessionId ?? c.sess?.id;
    env.payload = this.errorBody(e);
    c.t.send(JSON.stringify(env));
  }

  protected errorBody(e: ArcpError): Obj {
    return e.toBody();
  }

  /** Numbered per session (§8.3) and kept for resume. */
  protected nextSeq(s: Sess): number {
    return ++s.seq;
  }

  sendSeq(s: Sess, m: Obj): number {
    const seq = this.nextSeq(s);
    const text = JSON.stringify(this.env(s, m, seq));
    s.buffer.push({ seq, text });
    if (this.deliverLive(s, m)) this.write(s, text);
    if (m.type === 'job.event' && s.features.has('ack')) {
      const lag = s.seq - s.acked;
      if (!s.backPressured && lag > (this.o.backPressureLag ?? 100)) {
        s.backPressured = true;
        const job = this.jobs.get(m.job_id);
        if (job) this.emit(job, 'status', { phase: 'back_pressure', message: `event_seq lag ${lag} exceeds threshold ${this.o.backPressureLag ?? 100}` });
      }
    }
    return seq;
  }

  /** Whether a live sequenced frame goes out now (it is buffered either way). */
  protected deliverLive(_s: Sess, _m: Obj): boolean {
    return true;
  }

  // ---- session messages --------------------------------------------------------------------

  private dispatch(c: Conn, s: Sess, m: Obj): void {
    const need: Obj = { 'session.ack': 'ack', 'session.list_jobs': 'list_jobs', 'job.subscribe': 'subscribe', 'job.unsubscribe': 'subscribe' };
    if (need[m.type] && !s.features.has(need[m.type])) {
      if (m.type === 'session.ack') return;
      throw new ArcpError('INVALID_REQUEST', `${m.type} requires '${need[m.type]}'`);
    }
    switch (m.type) {
      case 'session.ping':
        return this.pong(s, m);
      case 'session.pong':
        return;
      case 'session.ack':
        return this.ack(s, m.payload.last_processed_seq);
      case 'session.bye':
        this.onBye(s);
        closeNoCode(c.t);
        return;
      case 'session.list_jobs':
        return this.listJobs(s, m);
      case 'job.submit':
        return this.submit(s, m);
      case 'job.cancel':
        return this.cancelRequest(s, m);
      case 'job.subscribe':
        return this.subscribe(s, m);
      case 'job.unsubscribe': {
        const j = this.jobs.get(m.payload.job_id);
        j?.subscribers.delete(s);
        return;
      }
      default:
        throw new ArcpError('INVALID_REQUEST', `unknown message type ${m.type}`);
    }
  }

  protected onBye(_s: Sess): void {}

  protected pong(s: Sess, m: Obj): void {
    this.send(s, { type: 'session.pong', payload: { ping_nonce: m.payload.nonce, received_at: new Date().toISOString() } });
  }

  /** Frees what the client acknowledged (§6.5 MAY), never more. */
  protected ack(s: Sess, n: number): void {
    s.acked = Math.max(s.acked, Math.min(n, s.seq));
    s.buffer = s.buffer.filter((b) => b.seq > s.acked);
    if (s.seq - s.acked <= (this.o.backPressureLag ?? 100) / 2) s.backPressured = false;
  }

  private canObserve(s: Sess, j: Job): boolean {
    return j.principal === s.principal || (this.o.observers?.[s.principal] ?? []).includes(j.principal);
  }

  /** Which jobs a session's list shows: the ones its principal may observe (§6.6). */
  protected listed(s: Sess, j: Job): boolean {
    return this.canObserve(s, j);
  }

  protected summary(j: Job, s: Sess): Obj {
    const o: Obj = { job_id: j.id, agent: this.agentRef(j), status: j.status, lease: j.lease };
    if (j.constraints) o.lease_constraints = j.constraints;
    if (j.budget.active) o.budget = j.budget.toJSON();
    if (j.credentials && this.showCredentials(j, s)) o.credentials = j.credentials;
    Object.assign(o, { parent_job_id: j.parent?.id ?? null, created_at: j.createdAt, trace_id: j.traceId, last_event_seq: j.lastSeq });
    return o;
  }

  /** Credentials go to the submitter's principal only (§7.6, §14). */
  protected showCredentials(j: Job, s: Sess): boolean {
    return j.principal === s.principal;
  }

  private listJobs(s: Sess, m: Obj): void {
    const { filter = {}, limit = 100, cursor } = m.payload;
    const key = (j: Job) => `${j.createdAt}\u0000${j.id}`;
    const after = cursor ? Buffer.from(cursor, 'base64url').toString() : '';
    const all = [...this.jobs.values()]
      .filter((j) => this.listed(s, j) && !TERMINAL.has(j.status))
      .filter((j) => !filter.status || filter.status.includes(j.status))
      .filter((j) => !filter.agent || j.agent === filter.agent || this.agentRef(j) === filter.agent)
      .filter((j) => !filter.created_after || Date.parse(j.createdAt) > Date.parse(filter.created_after))
      .sort((a, b) => (key(a) < key(b) ? -1 : 1))
      .filter((j) => key(j) > after);
    const page = all.slice(0, limit);
    const next = all.length > page.length ? Buffer.from(key(page[page.length - 1])).toString('base64url') : null;
    this.send(s, { type: 'session.jobs', payload: { request_id: m.id, jobs: page.map((j) => this.summary(j, s)), next_cursor: next } });
  }

  // ---- jobs --------------------------------------------------------------------------------

  private agentRef(j: Job): string {
    return j.version ? `${j.agent}@${j.version}` : j.agent;
  }

  /** `name@version` runs that version; a version it lacks is AGENT_VERSION_NOT_AVAILABLE (§7.5). */
  protected resolve(ref: string): { name: string; version?: string } {
    return resolveAgent(parseAgentRef(ref), this.inventory);
  }

  protected checkExpiresAt(value: string): number {
    return validateExpiresAt(value);
  }

  /** Operations the lease does not cover fail with PERMISSION_DENIED (§9.3). */
  protected authorize(j: Job, capability: string, target: string): void {
    authorize(j, capability, target);
  }

  private submit(s: Sess, m: Obj): void {
    const p = m.payload;
    let resolved: { name: string; version?: string };
    try {
      resolved = this.resolve(p.agent);
    } catch (e) {
      const err = toArcpError(e);
      // v1.0 form: an unavailable version is a session.error; an unknown agent a job.error with a fresh id.
      if (err.code === 'AGENT_VERSION_NOT_AVAILABLE') throw err;
      this.sendSeq(s, { type: 'job.error', job_id: newId('job'), payload: { final_status: 'error', ...this.errorBody(err) } });
      return;
    }
    const lease = p.lease_request ?? {};
    const expiresAt = p.lease_constraints?.expires_at !== undefined ? this.checkExpiresAt(p.lease_constraints.expires_at) : undefined;
    if (p.idempotency_key !== undefined) {
      const key = `${s.principal}\u0000${p.idempotency_key}`;
      const params = JSON.stringify([p.agent, p.input, lease, p.lease_constraints, p.max_runtime_sec]);
      const prior = this.idem.get(key);
      if (prior && prior.params !== params) throw new ArcpError('DUPLICATE_KEY', `idempotency_key "${p.idempotency_key}" reused with conflicting params`);
      if (prior && this.sameKeySameJob()) {
        this.send(s, { type: 'job.accepted', job_id: prior.job.id, trace_id: prior.job.traceId, payload: prior.job.accepted });
        if (s !== prior.job.owner && !TERMINAL.has(prior.job.status)) prior.job.subscribers.add(s);
        return;
      }
      const job = this.startJob(s, resolved, p, lease, expiresAt, m.trace_id);
      this.idem.set(key, { job, params });
      return;
    }
    this.startJob(s, resolved, p, lease, expiresAt, m.trace_id);
  }

  /** A repeated key with the same parameters returns the same job (§7.2). */
  protected sameKeySameJob(): boolean {
    return true;
  }

  private startJob(s: Sess, r: { name: string; version?: string }, p: Obj, lease: Obj, expiresAt: number | undefined, traceId?: string, parent?: Job, delegateId?: string): Job {
    const def = this.agents.get(r.name)!;
    let settle!: Job['settle'];
    const done = new Promise<{ result?: unknown; error?: ArcpError }>((res) => (settle = res));
    const job: Job = {
      id: newId('job'),
      agent: r.name,
      version: s.features.has('agent_versions') ? r.version : undefined,
      principal: s.principal,
      owner: s,
      subscribers: new Set(),
      status: 'running',
      createdAt: new Date().toISOString(),
      traceId: this.traceFor(traceId, parent),
      lease,
      expiresAt,
      budget: new BudgetCounters(lease),
      constraints: expiresAt !== undefined ? { expires_at: p.lease_constraints?.expires_at ?? new Date(expiresAt).toISOString() } : undefined,
      parent,
      delegateId,
      history: [],
      abort: new AbortController(),
      done,
      settle,
      lastSeq: 0,
    };
    if (def.credentials && s.features.has('provisioned_credentials')) {
      const constraints: Obj = {};
      if (lease['model.use']) constraints.allowed_models = lease['model.use'];
      if (lease['cost.budget']) {
        const [cur, amt] = String(lease['cost.budget'][0]).split(':');
        constraints.max_spend = { currency: cur, amount: Number(amt) };
      }
      job.credentials = [{ id: newId('cred'), scheme: 'bearer', value: newToken('sk-stranger', 16), endpoint: 'http://127.0.0.1:9/v1', profile: 'openai', constraints }];
    }
    this.jobs.set(job.id, job);
    s.jobs.add(job);
    const acc: Obj = { job_id: job.id, agent: this.agentRef(job), lease };
    if (job.constraints) acc.lease_constraints = job.constraints;
    if (job.budget.active) acc.budget = job.budget.toJSON();
    if (job.credentials) acc.credentials = job.credentials;
    acc.accepted_at = job.createdAt;
    if (parent) Object.assign(acc, { parent_job_id: parent.id, delegate_id: delegateId });
    acc.trace_id = job.traceId;
    job.accepted = acc;
    this.send(s, { type: 'job.accepted', job_id: job.id, trace_id: job.traceId, payload: acc });
    if (p.max_runtime_sec !== undefined && this.enforceTimeout()) {
      job.timeout = setTimeout(() => this.end(job, 'timed_out', new ArcpError('TIMEOUT', `exceeded max_runtime_sec=${p.max_runtime_sec}`)), p.max_runtime_sec * 1000);
    }
    const run = r.version ? def.versions![r.version] : def.run!;
    Promise.resolve()
      .then(() => run(this.context(job, this.handlerVersion(r), p.input)))
      .then(
        (v) => {
          if (TERMINAL.has(job.status)) return;
          if (v instanceof StreamedResult) this.finish(job, { final_status: 'success', ...this.streamedResult(v) });
          else this.finish(job, { final_status: 'success', result: v ?? null });
        },
        (e) => this.end(job, 'error', toArcpError(e)),
      );
    return job;
  }

  /** The version whose handler runs; the pinned one (§7.5). */
  protected handlerVersion(r: { name: string; version?: string }): string | undefined {
    return r.version;
  }

  protected streamedResult(v: StreamedResult): Obj {
    return { result_id: v.resultId, result_size: v.size, ...(v.summary ? { summary: v.summary } : {}) };
  }

  protected enforceTimeout(): boolean {
    return true;
  }

  /** A child carries its parent's trace; a job without one gets a fresh 32-hex id (§11). */
  protected traceFor(given: string | undefined, parent?: Job): string {
    return parent?.traceId ?? given ?? newTraceId();
  }

  private finish(job: Job, payload: Obj): void {
    this.terminal(job, 'success', { type: 'job.result', payload });
  }

  end(job: Job, status: 'error' | 'cancelled' | 'timed_out', err: ArcpError): void {
    if (TERMINAL.has(job.status)) return;
    this.terminal(job, status, { type: 'job.error', payload: { final_status: status, ...this.errorBody(err) } });
  }

  private terminal(job: Job, status: string, m: Obj): void {
    job.status = status;
    clearTimeout(job.timeout);
    job.abort.abort();
    for (const c of [...this.jobs.values()].filter((c) => c.parent === job)) this.end(c, 'cancelled', new ArcpError('CANCELLED', 'parent ended'));
    this.deliver(job, m);
    job.subscribers.clear();
    job.settle(status === 'success' ? { result: m.payload.result } : { error: ArcpError.fromBody(m.payload as never) });
  }

  /** To the owner (numbered in its space) and every subscriber (in theirs). */
  deliver(job: Job, m: Obj, kind?: string): void {
    const msg = { ...m, job_id: job.id, trace_id: job.traceId };
    const to = [job.owner, ...job.subscribers];
    for (const s of to) {
      if (!this.delivers(job, s, kind)) continue;
      const seq = this.sendSeq(s, msg);
      if (s === job.owner) {
        job.lastSeq = seq;
        job.history.push({ seq, msg });
      }
    }
  }

  /** Whether `s` gets this job's message: feature-bound kinds only where negotiated (§6.2). */
  protected delivers(_job: Job, s: Sess, kind?: string): boolean {
    if (kind === 'progress') return this.sendsProgressTo(s);
    if (kind === 'result_chunk') return s.features.has('result_chunk');
    return true;
  }

  protected sendsProgressTo(s: Sess): boolean {
    return s.features.has('progress');
  }

  emit(job: Job, kind: string, body: Obj): void {
    if (TERMINAL.has(job.status)) throw new ArcpError('CANCELLED', 'job has ended');
    this.deliver(job, { type: 'job.event', payload: { kind, ts: new Date().toISOString(), body } }, kind);
  }

  protected budgetError(j: Job): ArcpError | undefined {
    const ex = j.budget.exhausted();
    return ex ? new ArcpError('BUDGET_EXHAUSTED', `${ex.currency} budget exhausted`) : undefined;
  }

  private gate(j: Job, capability: string, target: string): void {
    if (j.expiresAt !== undefined && Date.now() >= this.expiryOf(j)) throw new ArcpError('LEASE_EXPIRED', `Lease expired at ${new Date(j.expiresAt).toISOString()}`);
    if (/^(tool\.call|fs\.|net\.fetch|agent\.delegate)/.test(capability)) {
      const b = this.budgetError(j);
      if (b) throw b;
    }
    this.authorize({ ...j, expiresAt: undefined, budget: new BudgetCounters({}) } as Job, capability, target);
  }

  /** When a lease ends: its expires_at (§9.5). */
  protected expiryOf(j: Job): number {
    return j.expiresAt!;
  }

  private context(job: Job, version: string | undefined, input: unknown): AgentContext {
    const rt = this;
    let calls = 0;
    const gateOrReport = (callId: string, cap: string, target: string) => {
      try {
        rt.gate(job, cap, target);
      } catch (e) {
        const err = toArcpError(e);
        rt.emit(job, 'tool_result', { call_id: callId, error: rt.errorBody(err) });
        if (err.code === 'LEASE_EXPIRED') rt.end(job, 'error', err);
        throw err;
      }
    };
    return {
      input,
      get jobId() {
        return job.id;
      },
      traceId: job.traceId,
      // A stranger yields a turn now and then; it does not pace by its peers' buffers.
      pace: () => new Promise<void>((r) => setImmediate(r)),
      agent: rt.agentRef(job),
      version,
      lease: job.lease,
      credentials: job.credentials as never,
      signal: job.abort.signal,
      log: (level, message, extra) => rt.emit(job, 'log', { level, message, ...extra }),
      thought: (text) => rt.emit(job, 'thought', { text }),
      status: (phase, message) => rt.emit(job, 'status', message === undefined ? { phase } : { phase, message }),
      metric: (name, value, unit, dimensions) => {
        rt.emit(job, 'metric', { name, value, ...(unit !== undefined ? { unit } : {}), ...(dimensions ? { dimensions } : {}) });
        if (name.startsWith('cost.') && unit && job.budget.has(unit)) {
          const left = job.budget.charge(unit, value);
          if (left !== undefined) rt.emit(job, 'metric', { name: 'cost.budget.remaining', value: left, unit });
        }
      },
      artifact: (body) => rt.emit(job, 'artifact_ref', body),
      progress: (current, total, units, message) => rt.emit(job, 'progress', { current, ...(total !== undefined ? { total } : {}), ...(units ? { units } : {}), ...(message ? { message } : {}) }),
      event: (kind, body) => rt.emit(job, kind, body),
      toolCall: async (tool, args, run, opts) => {
        const callId = opts?.callId ?? `call_${++calls}`;
        rt.emit(job, 'tool_call', { tool, args, call_id: callId });
        gateOrReport(callId, opts?.capability ?? 'tool.call', opts?.target ?? tool);
        const result = await run();
        rt.emit(job, 'tool_result', { call_id: callId, result });
        return result;
      },
      useModel: (model) => rt.authorize(job, 'model.use', model),
      delegate: async (req) => {
        const delegateId = req.delegateId ?? newId('del');
        rt.emit(job, 'delegate', { delegate_id: delegateId, agent: req.agent, input: req.input ?? {}, lease_request: req.lease_request ?? {} });
        let child: Job;
        try {
          rt.gate(job, 'agent.delegate', req.agent.split('@')[0]);
          const derived = rt.childLease(job, req.lease_request ?? {}, req.lease_constraints);
          child = rt.startJob(job.owner, rt.resolve(req.agent), { input: req.input, lease_constraints: derived.constraints }, derived.lease, derived.expiresAt, undefined, job, delegateId);
        } catch (e) {
          const err = toArcpError(e);
          rt.emit(job, 'tool_result', { call_id: delegateId, error: rt.errorBody(err) });
          throw err;
        }
        const out = await child.done;
        if (out.error) throw out.error;
        return { jobId: child.id, result: out.result };
      },
      streamResult: (chunks, opts) => {
        if (!job.owner.features.has('result_chunk')) throw new ArcpError('INVALID_REQUEST', "Cannot emit result_chunk event without negotiated 'result_chunk' feature");
        const resultId = newId('res');
        const list = [...chunks].map((c) => (typeof c === 'string' ? Buffer.from(c) : c));
        let size = 0;
        const bodies = list.map((buf, i) => {
          if (buf.length > 1024 * 1024) throw new ArcpError('INTERNAL_ERROR', `chunk of ${buf.length} bytes exceeds 1 MiB`);
          size += buf.length;
          return { result_id: resultId, chunk_seq: i, data: opts.encoding === 'base64' ? buf.toString('base64') : buf.toString('utf8'), encoding: opts.encoding, more: i < list.length - 1 };
        });
        for (const b of rt.chunkOrder(bodies)) rt.emit(job, 'result_chunk', b);
        return new StreamedResult(resultId, size, opts.summary);
      },
      sleep: (ms) =>
        new Promise<void>((resolve, reject) => {
          if (job.abort.signal.aborted) return reject(new ArcpError('CANCELLED', 'job has ended'));
          const t = setTimeout(resolve, ms);
          job.abort.signal.addEventListener('abort', () => (clearTimeout(t), reject(new ArcpError('CANCELLED', 'job has ended'))), { once: true });
        }),
    };
  }

  protected childLease(parent: Job, lease: Obj, constraints?: Obj) {
    return deriveChildLease(parent, lease, constraints);
  }

  protected chunkOrder(bodies: Obj[]): Obj[] {
    return bodies;
  }

  // ---- cancel, subscribe -------------------------------------------------------------------

  /** Only the submitting session may cancel (§7.4, §14). */
  protected mayCancel(s: Sess, j: Job): boolean {
    return j.owner === s;
  }

  private cancelRequest(s: Sess, m: Obj): void {
    const id = m.job_id ?? m.payload.job_id;
    const j = id ? this.jobs.get(id) : undefined;
    if (!j || !this.canObserve(s, j)) {
      this.sendSeq(s, { type: 'job.error', job_id: id ?? newId('job'), payload: { final_status: 'error', ...this.errorBody(new ArcpError('JOB_NOT_FOUND', `Job ${id} not found`)) } });
      return;
    }
    if (!this.mayCancel(s, j)) {
      this.sendSeq(s, { type: 'job.error', job_id: j.id, payload: { final_status: 'error', ...this.errorBody(new ArcpError('PERMISSION_DENIED', 'Subscription does not confer cancel authority')) } });
      return;
    }
    this.cancel(j, m.payload.reason ?? 'cancelled');
  }

  /** job.cancelled, then job.error CANCELLED (§7.4). */
  protected cancel(j: Job, reason: string): void {
    if (TERMINAL.has(j.status)) return;
    this.send(j.owner, { type: 'job.cancelled', job_id: j.id, payload: { reason } });
    this.end(j, 'cancelled', new ArcpError('CANCELLED', reason));
  }

  /** Who may subscribe: principals that may observe the job (§7.6). */
  protected maySubscribe(s: Sess, j: Job): boolean {
    return this.canObserve(s, j);
  }

  private subscribe(s: Sess, m: Obj): void {
    const { job_id, history = false, from_event_seq = 0 } = m.payload;
    const j = this.jobs.get(job_id);
    if (!j) throw new ArcpError('JOB_NOT_FOUND', `Job ${job_id} not found`);
    if (!this.maySubscribe(s, j)) throw new ArcpError('PERMISSION_DENIED', "Subscriber's principal is not authorized to observe this job");
    // The reference SDK's order: history first, then job.subscribed.
    let replayed = 0;
    if (history) {
      for (const h of j.history) {
        if (h.seq <= from_event_seq) continue;
        if (h.msg.payload?.kind === 'progress' && !this.sendsProgressTo(s)) continue;
        this.sendSeq(s, h.msg);
        replayed++;
      }
    }
    const sum = this.summary(j, s);
    const payload: Obj = { job_id: j.id, current_status: j.status, agent: sum.agent, lease: sum.lease };
    for (const k of ['lease_constraints', 'budget', 'credentials']) if (sum[k] !== undefined) payload[k] = sum[k];
    Object.assign(payload, { parent_job_id: sum.parent_job_id, trace_id: j.traceId, subscribed_from: j.lastSeq, replayed: replayed > 0 });
    this.send(s, { type: 'job.subscribed', job_id: j.id, payload });
    if (s !== j.owner && !TERMINAL.has(j.status)) j.subscribers.add(s);
  }
}
