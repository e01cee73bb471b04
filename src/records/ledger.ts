import type { Msg, WalkSink, HttpExchange } from './walk.js';

/**
 * What the ARCP frames of a tape say happened, gathered in one pass: sessions, submits and what
 * answered them, jobs and their terminal frames, tool calls, delegations and cancels. Only the
 * owner session's copy of a job's frames counts (a subscriber sees the same events again), and
 * a retransmitted event (same session, same event_seq) counts once. Answers are paired with
 * requests as the wire allows: by `details.request_id` when the runtime names it, otherwise by
 * order on the connection (the reference SDK names no request in a rejection).
 */
export interface Session {
  id: string;
  hello?: Msg;
  welcome?: Msg;
}

export type MatchedBy = 'request_id' | 'order';

export interface Submit {
  msg: Msg;
  agent?: string;
  answer?: { msg: Msg; kind: 'accepted' | 'rejected'; matchedBy: MatchedBy; job?: Job };
  /** Same envelope id as an earlier submit on the connection (a runtime may drop such a repeat). */
  repeats?: Msg;
}

export interface Cancel {
  msg: Msg;
  jobId?: string;
  answer?: { msg: Msg; kind: 'cancelled' | 'refused'; matchedBy: MatchedBy };
}

export interface ToolCall {
  callId: string;
  /** Absent when the runtime answered a call it never announced (the reference SDK refuses a call that way). */
  call?: Msg;
  result?: Msg;
  /** `cost.*` metrics the job emitted while the call was open. */
  costs: Msg[];
  /** The latest `cost.budget.remaining` per currency when the call ended (or the job's last). */
  remaining: Map<string, Msg>;
}

export interface Delegation {
  delegateId: string;
  event: Msg;
  child?: Job;
  /** A `tool_result` error naming the delegate_id: the runtime refused the delegation. */
  denial?: Msg;
}

export interface Job {
  id: string;
  session: string;
  /** The frame the job is first known from: its `job.accepted`, or a `job.subscribed`. */
  known: Msg;
  submit?: Submit;
  terminal?: Msg;
  last: Msg;
  parent?: Job;
  /** The parent's delegation this job is the child of. */
  delegation?: Delegation;
  resubmits: Submit[];
  calls: ToolCall[];
  delegations: Delegation[];
  remaining: Map<string, Msg>;
  resultChunks: Msg[];
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const base = (agent: string | undefined) => agent?.split('@')[0];

export class Ledger implements WalkSink {
  readonly sessions = new Map<string, Session>();
  readonly jobs = new Map<string, Job>();
  readonly submits: Submit[] = [];
  readonly cancels: Cancel[] = [];
  readonly exchanges: HttpExchange[] = [];
  private readonly channelSession = new Map<number, string>();
  private readonly hellos = new Map<number, Msg>();
  private readonly pendingSubmits = new Map<number, Submit[]>();
  private readonly pendingCancels = new Map<number, Cancel[]>();
  /** The last client request on each connection, for a `session.error` that names none. */
  private readonly lastRequest = new Map<number, Submit | Cancel | undefined>();
  private readonly seenEvents = new Set<string>();
  /** The first submit with each envelope id, per connection. */
  private readonly submitIds = new Map<string, Msg>();

  exchange(e: HttpExchange): void {
    this.exchanges.push(e);
  }

  message(m: Msg): void {
    if (m.dir === 'c2s') this.request(m);
    else this.answer(m);
  }

  /** The session a connection speaks for: its welcome's, else the frame's envelope, else the connection itself. */
  sessionOf(m: Msg): string {
    return this.channelSession.get(m.channel) ?? str(m.env.session_id) ?? `channel ${m.channel}`;
  }

  private request(m: Msg): void {
    switch (m.type) {
      case 'session.hello':
      case 'session.resume':
        this.hellos.set(m.channel, m);
        break;
      case 'job.submit': {
        const pending = this.queue(this.pendingSubmits, m.channel);
        const s: Submit = { msg: m, agent: str(m.payload.agent) };
        const id = str(m.env.id);
        if (id !== undefined) {
          const key = `${m.channel}\u0000${id}`;
          s.repeats = this.submitIds.get(key);
          this.submitIds.set(key, s.repeats ?? m);
        }
        this.submits.push(s);
        pending.push(s);
        this.lastRequest.set(m.channel, s);
        return;
      }
      case 'job.cancel': {
        const c: Cancel = { msg: m, jobId: str(m.env.job_id) ?? str(m.payload.job_id) };
        this.cancels.push(c);
        this.queue(this.pendingCancels, m.channel).push(c);
        this.lastRequest.set(m.channel, c);
        return;
      }
    }
    this.lastRequest.set(m.channel, undefined);
  }

  private answer(m: Msg): void {
    const jobId = str(m.env.job_id) ?? str(m.payload.job_id);
    switch (m.type) {
      case 'session.welcome': {
        const id = str(m.env.session_id) ?? `channel ${m.channel}`;
        this.channelSession.set(m.channel, id);
        const s = this.sessions.get(id) ?? { id };
        s.hello ??= this.hellos.get(m.channel);
        s.welcome ??= m;
        this.sessions.set(id, s);
        return;
      }
      case 'session.error':
        return this.sessionError(m);
      case 'job.accepted':
        if (jobId) this.accepted(m, jobId);
        return;
      case 'job.subscribed':
        if (jobId && !this.jobs.has(jobId)) this.jobs.set(jobId, this.newJob(jobId, m));
        return;
      case 'job.cancelled': {
        const c = this.take(this.pendingCancels, m.channel, (x) => x.jobId === jobId);
        if (c) c.answer = { msg: m, kind: 'cancelled', matchedBy: 'order' };
        return;
      }
      case 'job.error':
        if (jobId) this.jobError(m, jobId);
        return;
    }
    const job = jobId ? this.ownJob(m, jobId) : undefined;
    if (!job) return;
    if (m.type === 'job.result') {
      job.terminal ??= m;
      job.last = m;
    } else if (m.type === 'job.event') this.event(job, m);
  }

  /** The job, when this frame is its owner session's copy. */
  private ownJob(m: Msg, jobId: string): Job | undefined {
    const job = this.jobs.get(jobId);
    return job && job.session === this.sessionOf(m) ? job : undefined;
  }

  private newJob(id: string, known: Msg): Job {
    return { id, session: this.sessionOf(known), known, last: known, resubmits: [], calls: [], delegations: [], remaining: new Map(), resultChunks: [] };
  }

  private accepted(m: Msg, jobId: string): void {
    const existing = this.jobs.get(jobId);
    const parentId = str(m.payload.parent_job_id);
    if (!existing && parentId) {
      const job = this.newJob(jobId, m);
      const parent = this.jobs.get(parentId);
      if (parent) {
        job.parent = parent;
        const delegateId = str(m.payload.delegate_id);
        const d = parent.delegations.find((x) => (delegateId ? x.delegateId === delegateId : !x.child && base(str(obj(x.event.payload.body).agent)) === base(str(m.payload.agent))));
        if (d) {
          d.child = job;
          job.delegation = d;
        }
      }
      this.jobs.set(jobId, job);
      return;
    }
    const agent = base(str(m.payload.agent));
    const trace = str(m.payload.trace_id) ?? str(m.env.trace_id);
    const s =
      this.take(this.pendingSubmits, m.channel, (x) => (!agent || base(x.agent) === agent) && (!str(x.msg.env.trace_id) || !trace || x.msg.env.trace_id === trace)) ??
      this.take(this.pendingSubmits, m.channel, () => true);
    if (existing) {
      // The same job accepted again: an idempotent resubmit (§7.2).
      if (s) {
        s.answer = { msg: m, kind: 'accepted', matchedBy: 'order', job: existing };
        existing.resubmits.push(s);
      }
      return;
    }
    const job = this.newJob(jobId, m);
    if (s) {
      s.answer = { msg: m, kind: 'accepted', matchedBy: 'order', job };
      job.submit = s;
    }
    this.jobs.set(jobId, job);
  }

  /**
   * A `job.error` is a job's end only on its owner session and only once; otherwise it answers
   * a request on this connection: a refused cancel, or a rejected submit (DUPLICATE_KEY names
   * the existing job, an unknown agent a fresh id).
   */
  private jobError(m: Msg, jobId: string): void {
    const requestId = str(obj(m.payload.details).request_id);
    if (requestId) {
      const byId = <T extends { msg: Msg }>(x: T) => x.msg.env.id === requestId;
      const s = this.take(this.pendingSubmits, m.channel, byId);
      if (s) return void (s.answer = { msg: m, kind: 'rejected', matchedBy: 'request_id' });
      const c = this.take(this.pendingCancels, m.channel, byId);
      if (c) return void (c.answer = { msg: m, kind: 'refused', matchedBy: 'request_id' });
    }
    const duplicate = m.payload.code === 'DUPLICATE_KEY' || obj(m.payload.details).existing_job_id !== undefined;
    const job = duplicate ? undefined : this.ownJob(m, jobId);
    if (job && !job.terminal) {
      job.terminal = m;
      job.last = m;
      return;
    }
    const c = duplicate ? undefined : this.take(this.pendingCancels, m.channel, (x) => x.jobId === jobId);
    if (c) return void (c.answer = { msg: m, kind: 'refused', matchedBy: 'order' });
    if (duplicate || !this.jobs.has(jobId)) {
      const s = this.take(this.pendingSubmits, m.channel, () => true);
      if (s) s.answer = { msg: m, kind: 'rejected', matchedBy: 'order' };
    }
  }

  /** A `session.error` answers the request it names, or else the client's last request on the connection. */
  private sessionError(m: Msg): void {
    const requestId = str(obj(m.payload.details).request_id);
    const last = this.lastRequest.get(m.channel);
    const pick = <T extends { msg: Msg }>(x: T) => (requestId ? x.msg.env.id === requestId : x === last);
    const by: MatchedBy = requestId ? 'request_id' : 'order';
    const s = this.take(this.pendingSubmits, m.channel, pick);
    if (s) return void (s.answer = { msg: m, kind: 'rejected', matchedBy: by });
    const c = this.take(this.pendingCancels, m.channel, pick);
    if (c) c.answer = { msg: m, kind: 'refused', matchedBy: by };
  }

  private event(job: Job, m: Msg): void {
    if (typeof m.env.event_seq === 'number') {
      const key = `${job.session}\u0000${m.env.event_seq}`;
      if (this.seenEvents.has(key)) return; // a resumed session's replay of what it had
      this.seenEvents.add(key);
    }
    job.last = m;
    const kind = str(m.payload.kind);
    const body = obj(m.payload.body);
    const callId = str(body.call_id);
    if (kind === 'tool_call' && callId) job.calls.push({ callId, call: m, costs: [], remaining: new Map() });
    else if (kind === 'tool_result' && callId) {
      const call = job.calls.find((c) => c.callId === callId && !c.result);
      if (call) {
        call.result = m;
        call.remaining = new Map(job.remaining);
        return;
      }
      const d = job.delegations.find((x) => x.delegateId === callId && !x.denial);
      if (d) d.denial = m;
      else job.calls.push({ callId, result: m, costs: [], remaining: new Map(job.remaining) });
    } else if (kind === 'delegate') {
      const delegateId = str(body.delegate_id);
      if (delegateId) job.delegations.push({ delegateId, event: m });
    } else if (kind === 'metric') {
      const name = str(body.name);
      const unit = str(body.unit);
      if (name === 'cost.budget.remaining' && unit) job.remaining.set(unit, m);
      else if (name?.startsWith('cost.')) {
        const open = [...job.calls].reverse().find((c) => !c.result);
        open?.costs.push(m);
      }
    } else if (kind === 'result_chunk') job.resultChunks.push(m);
  }

  private queue<T>(map: Map<number, T[]>, channel: number): T[] {
    let q = map.get(channel);
    if (!q) map.set(channel, (q = []));
    return q;
  }

  /** Removes and returns the earliest pending request on the connection that `pick` accepts. */
  private take<T>(map: Map<number, T[]>, channel: number, pick: (x: T) => boolean): T | undefined {
    const q = map.get(channel);
    const i = q?.findIndex(pick) ?? -1;
    return i < 0 ? undefined : q!.splice(i, 1)[0];
  }

  /** The session a job's frames came from, with its hello (principal and client). */
  session(id: string): Session | undefined {
    return this.sessions.get(id);
  }
}
