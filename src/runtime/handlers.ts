import { createHash } from 'node:crypto';
import { parseAgentRef, resolveAgent } from '../engine/agent-ref.js';
import { ArcpError, toArcpError } from '../engine/errors.js';
import { newId, newTraceId } from '../engine/ids.js';
import { deriveChildLease, validateExpiresAt, validateLease } from '../engine/lease.js';
import { isTerminal } from '../engine/session/machine.js';
import { traceIdOf } from '../engine/schemas/envelope.js';
import type { Message } from '../engine/schemas/messages.js';
import type { Transport } from '../engine/transport/transport.js';
import type { AgentContext } from './agent.js';
import { RuntimeJob, type JobHost } from './job.js';
import type { Runtime } from './runtime.js';
import type { RuntimeSession } from './session.js';
import { nowIso } from './wire.js';

interface IdempotencyRecord {
  job: RuntimeJob;
  paramsHash: string;
}

const FEATURE_OF: Record<string, string> = {
  'session.ack': 'ack',
  'session.list_jobs': 'list_jobs',
  'job.subscribe': 'subscribe',
  'job.unsubscribe': 'subscribe',
};

/** Message handlers of an open session. */
export class JobHandlers implements JobHost {
  private readonly idempotency = new Map<string, IdempotencyRecord>();
  constructor(private readonly rt: Runtime) {}

  dispatch(s: RuntimeSession, t: Transport, m: Message): void {
    const feature = FEATURE_OF[m.type];
    if (feature && !s.has(feature)) {
      if (m.type === 'session.ack') return; // advisory: ignored without the feature
      throw new ArcpError('INVALID_REQUEST', `${m.type} requires the '${feature}' feature`);
    }
    switch (m.type) {
      case 'session.ping':
        return s.send({ type: 'session.pong', payload: { ping_nonce: m.payload.nonce, received_at: nowIso() } });
      case 'session.pong':
        return;
      case 'session.ack':
        return s.ack(m.payload.last_processed_seq);
      case 'session.list_jobs':
        return this.listJobs(s, m as Message<'session.list_jobs'>);
      case 'session.close':
        s.send({ type: 'session.closed', payload: { reason: m.payload.reason ?? 'client requested close' } });
        t.close(1000, 'session closed');
        return;
      case 'session.bye':
        t.close(1000, 'bye');
        return;
      case 'job.submit':
        return this.submit(s, m as Message<'job.submit'>);
      case 'job.cancel':
        return this.cancel(s, m as Message<'job.cancel'>);
      case 'job.subscribe':
        return this.subscribe(s, m as Message<'job.subscribe'>);
      case 'job.unsubscribe': {
        const job = s.subscriptions.get(m.payload.job_id);
        job?.subscribers.delete(s);
        s.subscriptions.delete(m.payload.job_id);
        return;
      }
      default:
        throw new ArcpError('INVALID_REQUEST', `"${m.type}" is not a message a client sends in an open session`, { type: m.type });
    }
  }

  /** Pre-acceptance rejections arrive as `job.error` with a fresh job_id and the submit's id. */
  private reject(s: RuntimeSession, submitId: string, err: ArcpError, jobId = newId('job')): void {
    s.sendSequenced({
      type: 'job.error',
      job_id: jobId,
      payload: { final_status: 'error', ...err.toBody(), details: { ...err.details, request_id: submitId } },
    });
  }

  private submit(s: RuntimeSession, m: Message<'job.submit'>): void {
    const p = m.payload;
    let job: RuntimeJob;
    try {
      const ref = parseAgentRef(p.agent);
      if (ref.version !== undefined && !s.has('agent_versions')) {
        throw new ArcpError('INVALID_REQUEST', `"${p.agent}" pins a version without the 'agent_versions' feature`);
      }
      const resolved = resolveAgent(ref, this.rt.inventory);
      const lease = p.lease_request ?? {};
      validateLease(lease);
      if (lease['cost.budget'] && !s.has('cost.budget')) throw new ArcpError('INVALID_REQUEST', "cost.budget requires the 'cost.budget' feature");
      if (lease['model.use'] && !s.has('model.use')) throw new ArcpError('INVALID_REQUEST', "model.use requires the 'model.use' feature");
      let expiresAt: number | undefined;
      if (p.lease_constraints?.expires_at !== undefined) {
        if (!s.has('lease_expires_at')) throw new ArcpError('INVALID_REQUEST', "expires_at requires the 'lease_expires_at' feature");
        expiresAt = validateExpiresAt(p.lease_constraints.expires_at);
      }
      if (p.idempotency_key !== undefined) {
        const key = `${s.principal}\u0000${p.idempotency_key}`;
        const hash = paramsHash(p);
        const prior = this.idempotency.get(key);
        if (prior) {
          if (prior.paramsHash !== hash) {
            throw new ArcpError('DUPLICATE_KEY', `idempotency_key "${p.idempotency_key}" reused with conflicting params`, {
              existing_job_id: prior.job.id,
            });
          }
          return this.replayAccepted(s, prior.job);
        }
      }
      const def = this.rt.agents.get(resolved.name)!;
      const run = resolved.version ? def.versions![resolved.version] : def.run!;
      job = new RuntimeJob(
        {
          agent: resolved.name,
          version: s.has('agent_versions') ? resolved.version : undefined,
          run,
          owner: s,
          principal: s.principal,
          input: p.input,
          lease,
          constraints: p.lease_constraints,
          expiresAt,
          // §11: the field carries the client's traceparent as given (or its 32-hex form, the SDK's).
          traceId: traceIdOf(m.trace_id) ? m.trace_id! : newTraceId(),
          maxRuntimeSec: p.max_runtime_sec,
        },
        this,
      );
      if (def.credentials && s.has('provisioned_credentials') && this.rt.opts.provisioner) {
        job.init.credentials = this.rt.opts.provisioner.issue({ jobId: job.id, lease, constraints: p.lease_constraints });
      }
      if (p.idempotency_key !== undefined) {
        this.idempotency.set(`${s.principal}\u0000${p.idempotency_key}`, { job, paramsHash: paramsHash(p) });
      }
    } catch (e) {
      const err = toArcpError(e);
      const existing = err.code === 'DUPLICATE_KEY' ? (err.details?.existing_job_id as string) : undefined;
      return this.reject(s, m.id, err, existing);
    }
    this.accept(job);
  }

  private accept(job: RuntimeJob): void {
    this.rt.jobs.set(job.id, job);
    job.accepted = job.acceptedPayload();
    job.owner.send({ type: 'job.accepted', job_id: job.id, trace_id: job.init.traceId, payload: job.accepted });
    this.rt.log(`job ${job.id} accepted: ${job.agentRef}`);
    job.start();
  }

  /** §7.2: the same `job.accepted` payload; another session of the principal also gets the live stream. */
  private replayAccepted(s: RuntimeSession, job: RuntimeJob): void {
    s.send({ type: 'job.accepted', job_id: job.id, trace_id: job.init.traceId, payload: job.accepted! });
    if (s === job.owner) return;
    if (isTerminal(job.status)) {
      const last = job.history[job.history.length - 1];
      if (last) s.sendSequenced(last.msg);
    } else {
      job.subscribers.add(s);
      s.subscriptions.set(job.id, job);
    }
  }

  startChild(parent: RuntimeJob, req: Parameters<AgentContext['delegate']>[0], delegateId: string): RuntimeJob {
    const ref = parseAgentRef(req.agent);
    const resolved = resolveAgent(ref, this.rt.inventory);
    const derived = deriveChildLease(parent, req.lease_request ?? {}, req.lease_constraints);
    const def = this.rt.agents.get(resolved.name)!;
    const child = new RuntimeJob(
      {
        agent: resolved.name,
        version: parent.owner.has('agent_versions') ? resolved.version : undefined,
        run: resolved.version ? def.versions![resolved.version] : def.run!,
        owner: parent.owner,
        principal: parent.init.principal,
        input: req.input,
        lease: derived.lease,
        constraints: derived.constraints,
        expiresAt: derived.expiresAt,
        traceId: parent.init.traceId,
        parent,
        delegateId,
      },
      this,
    );
    if (def.credentials && parent.owner.has('provisioned_credentials') && this.rt.opts.provisioner) {
      child.init.credentials = this.rt.opts.provisioner.issue({ jobId: child.id, lease: derived.lease, constraints: derived.constraints });
    }
    parent.children.add(child);
    this.accept(child);
    return child;
  }

  onTerminal(job: RuntimeJob): void {
    for (const c of job.init.credentials ?? []) this.rt.opts.provisioner?.revoke(c.id);
    job.init.parent?.children.delete(job);
    // Finished jobs stay listable and subscribable for the resume window, then go.
    setTimeout(() => this.rt.jobs.delete(job.id), this.rt.opts.resumeWindowSec * 1000).unref();
    this.rt.log(`job ${job.id} ended: ${job.status}`);
  }

  private canObserve(s: RuntimeSession, job: RuntimeJob): boolean {
    return job.init.principal === s.principal || (this.rt.opts.observers?.get(s.principal)?.has(job.init.principal) ?? false);
  }

  private cancel(s: RuntimeSession, m: Message<'job.cancel'>): void {
    const jobId = m.job_id ?? (m.payload as { job_id?: string }).job_id;
    const job = jobId ? this.rt.jobs.get(jobId) : undefined;
    const refuse = (err: ArcpError): void => {
      s.sendSequenced({ type: 'job.error', job_id: jobId ?? newId('job'), payload: { final_status: 'error', ...err.toBody() } });
    };
    if (!job || !this.canObserve(s, job)) return refuse(new ArcpError('JOB_NOT_FOUND', `Job "${jobId}" not found in this session`));
    if (job.owner !== s) return refuse(new ArcpError('PERMISSION_DENIED', 'Subscription does not confer cancel authority'));
    if (isTerminal(job.status)) {
      throw new ArcpError('INVALID_REQUEST', `Job "${job.id}" already ended (${job.status})`, { job_id: job.id });
    }
    job.cancel(m.payload.reason ?? 'cancelled by client');
  }

  private listJobs(s: RuntimeSession, m: Message<'session.list_jobs'>): void {
    const { filter = {}, limit = 100, cursor } = m.payload;
    const after = cursor ? decodeCursor(cursor) : undefined;
    const createdAfter = filter.created_after ? Date.parse(filter.created_after) : undefined;
    const matches = [...this.rt.jobs.values()]
      .filter((j) => this.canObserve(s, j))
      .filter((j) => !filter.status || filter.status.includes(j.status))
      .filter((j) => !filter.agent || j.init.agent === filter.agent || j.agentRef === filter.agent)
      .filter((j) => createdAfter === undefined || Date.parse(j.createdAt) > createdAfter)
      .sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1))
      .filter((j) => !after || j.createdAt > after.createdAt || (j.createdAt === after.createdAt && j.id > after.id));
    const page = matches.slice(0, Math.min(limit, 1000));
    const last = page[page.length - 1];
    s.send({
      type: 'session.jobs',
      payload: {
        request_id: m.id,
        jobs: page.map((j) => j.summary(s.principal)),
        next_cursor: matches.length > page.length && last ? encodeCursor(last) : null,
      },
    });
  }

  /** §7.6: the authority descriptor first, then history (if asked), then the live stream. */
  private subscribe(s: RuntimeSession, m: Message<'job.subscribe'>): void {
    const { job_id, history = false, from_event_seq = 0 } = m.payload;
    const job = this.rt.jobs.get(job_id);
    if (!job) throw new ArcpError('JOB_NOT_FOUND', `Job "${job_id}" not found`, { job_id });
    if (!this.canObserve(s, job)) {
      throw new ArcpError('PERMISSION_DENIED', "Subscriber's principal is not authorized to observe this job", { job_id });
    }
    const past = history ? job.history.filter((h) => h.seq > from_event_seq) : [];
    const summary = job.summary(s.principal);
    const payload: Record<string, unknown> = {
      job_id: job.id,
      current_status: job.status,
      agent: summary.agent,
      lease: summary.lease,
    };
    for (const k of ['lease_constraints', 'budget', 'credentials'] as const) if (summary[k] !== undefined) payload[k] = summary[k];
    Object.assign(payload, { parent_job_id: summary.parent_job_id, trace_id: summary.trace_id, subscribed_from: job.lastEventSeq, replayed: past.length > 0 });
    s.send({ type: 'job.subscribed', job_id: job.id, payload });
    for (const h of past) s.sendSequenced(h.msg);
    if (s !== job.owner && !isTerminal(job.status)) {
      job.subscribers.add(s);
      s.subscriptions.set(job.id, job);
    }
  }
}

function paramsHash(p: Message<'job.submit'>['payload']): string {
  const canon = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canon)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon((v as Record<string, unknown>)[k])]))
        : v;
  const { agent, input, lease_request, lease_constraints, max_runtime_sec } = p;
  return createHash('sha256')
    .update(JSON.stringify(canon({ agent, input, lease_request, lease_constraints, max_runtime_sec })))
    .digest('hex');
}

const encodeCursor = (j: RuntimeJob): string => Buffer.from(`${j.createdAt}\u0000${j.id}`).toString('base64url');
function decodeCursor(c: string): { createdAt: string; id: string } {
  const [createdAt, id] = Buffer.from(c, 'base64url').toString('utf8').split('\u0000');
  if (!createdAt || !id) throw new ArcpError('INVALID_REQUEST', `invalid cursor "${c}"`);
  return { createdAt, id };
}

