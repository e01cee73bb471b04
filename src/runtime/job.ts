import { ArcpError, toArcpError } from '../engine/errors.js';
import { newId } from '../engine/ids.js';
import { authorize, BudgetCounters, type LeaseGuardState } from '../engine/lease.js';
import { jobMachine, isTerminal, type JobState } from '../engine/session/machine.js';
import type { Credential, Lease, LeaseConstraints } from '../engine/schemas/common.js';
import type { JobSummary } from '../engine/schemas/session.js';
import { StreamedResult, type AgentContext, type AgentRun } from './agent.js';
import type { RuntimeSession } from './session.js';
import { nowIso, type OutMessage } from './wire.js';

/** How often a paced job looks again while its owner cannot take more events. */
const PACE_POLL_MS = 5;

/** §14: result chunks are capped so neither end can be made to exhaust memory. */
export const MAX_CHUNK_BYTES = 1024 * 1024;

export interface JobInit {
  agent: string;
  version?: string;
  run: AgentRun;
  owner: RuntimeSession;
  principal: string;
  input: unknown;
  lease: Lease;
  constraints?: LeaseConstraints;
  expiresAt?: number;
  traceId: string;
  maxRuntimeSec?: number;
  parent?: RuntimeJob;
  delegateId?: string;
  credentials?: Credential[];
}

interface HistoryEntry {
  seq: number;
  msg: OutMessage;
}

/** Hooks the job needs from the runtime (delegation, credential revocation). */
export interface JobHost {
  startChild(parent: RuntimeJob, req: Parameters<AgentContext['delegate']>[0], delegateId: string): RuntimeJob;
  onTerminal(job: RuntimeJob): void;
}

export class RuntimeJob implements LeaseGuardState {
  readonly id = newId('job');
  readonly machine = jobMachine();
  readonly createdAt = nowIso();
  readonly budget: BudgetCounters;
  readonly history: HistoryEntry[] = [];
  readonly subscribers = new Set<RuntimeSession>();
  readonly children = new Set<RuntimeJob>();
  readonly abort = new AbortController();
  lastEventSeq = 0;
  accepted?: Record<string, unknown>;
  private timeout?: NodeJS.Timeout;
  private settle!: (v: { result?: unknown; error?: ArcpError }) => void;
  readonly done = new Promise<{ result?: unknown; error?: ArcpError }>((r) => (this.settle = r));

  constructor(
    readonly init: JobInit,
    private readonly host: JobHost,
  ) {
    this.budget = new BudgetCounters(init.lease);
  }

  get lease(): Lease {
    return this.init.lease;
  }
  get expiresAt(): number | undefined {
    return this.init.expiresAt;
  }
  get owner(): RuntimeSession {
    return this.init.owner;
  }
  get status(): JobState {
    return this.machine.state;
  }
  get agentRef(): string {
    return this.init.version ? `${this.init.agent}@${this.init.version}` : this.init.agent;
  }

  acceptedPayload(): Record<string, unknown> {
    const p: Record<string, unknown> = { job_id: this.id, agent: this.agentRef, lease: this.lease };
    if (this.init.constraints) p.lease_constraints = this.init.constraints;
    if (this.budget.active) p.budget = this.budget.toJSON();
    if (this.init.credentials) p.credentials = this.init.credentials;
    p.accepted_at = this.createdAt;
    if (this.init.parent) {
      p.parent_job_id = this.init.parent.id;
      p.delegate_id = this.init.delegateId;
    }
    p.trace_id = this.init.traceId;
    return p;
  }

  /** The observer's view (§6.6, §7.6); credentials only for the submitting principal (§14). */
  summary(forPrincipal: string): JobSummary {
    const s: JobSummary = { job_id: this.id, agent: this.agentRef, status: this.status, lease: this.lease, created_at: this.createdAt };
    if (this.init.constraints) s.lease_constraints = this.init.constraints;
    if (this.budget.active) s.budget = this.budget.toJSON();
    if (this.init.credentials && forPrincipal === this.init.principal) s.credentials = this.init.credentials;
    s.parent_job_id = this.init.parent?.id ?? null;
    s.trace_id = this.init.traceId;
    s.last_event_seq = this.lastEventSeq;
    return s;
  }

  start(): void {
    this.machine.to('running');
    if (this.init.maxRuntimeSec !== undefined) {
      this.timeout = setTimeout(
        () => this.terminate('timed_out', new ArcpError('TIMEOUT', `Job exceeded max_runtime_sec=${this.init.maxRuntimeSec}`)),
        this.init.maxRuntimeSec * 1000,
      );
      this.timeout.unref();
    }
    const ctx = this.context();
    Promise.resolve()
      .then(() => this.init.run(ctx))
      .then(
        (value) => {
          if (isTerminal(this.status)) return;
          if (value instanceof StreamedResult) {
            const payload: Record<string, unknown> = {
              final_status: 'success',
              result_id: value.resultId,
              result_size: value.size,
            };
            if (value.summary !== undefined) payload.summary = value.summary;
            this.finish('success', payload, { result: { result_id: value.resultId } });
          } else {
            this.finish('success', { final_status: 'success', result: value ?? null }, { result: value });
          }
        },
        (e) => {
          if (isTerminal(this.status)) return;
          this.terminate('error', toArcpError(e));
        },
      );
  }

  /** Cancel (§7.4): `job.cancelled` then `job.error CANCELLED`; children go too. */
  cancel(reason: string): void {
    if (isTerminal(this.status)) return;
    this.deliver({ type: 'job.cancelled', payload: { reason } }, false);
    this.terminate('cancelled', new ArcpError('CANCELLED', reason));
  }

  terminate(status: 'error' | 'cancelled' | 'timed_out', err: ArcpError): void {
    if (isTerminal(this.status)) return;
    this.finish(status, { final_status: status, ...err.toBody() }, { error: err });
  }

  private finish(status: JobState, payload: Record<string, unknown>, outcome: { result?: unknown; error?: ArcpError }): void {
    this.machine.to(status);
    clearTimeout(this.timeout);
    this.abort.abort();
    for (const c of this.children) c.cancel(`parent job ${this.id} ended`);
    this.deliver({ type: status === 'success' ? 'job.result' : 'job.error', payload });
    for (const s of this.subscribers) s.subscriptions.delete(this.id);
    this.subscribers.clear();
    this.host.onTerminal(this);
    this.settle(outcome);
  }

  /** Sends to the owner session (numbered) and every subscriber, in their own seq spaces. */
  deliver(m: Omit<OutMessage, 'job_id' | 'trace_id'>, sequenced = true, kind?: string): void {
    const msg: OutMessage = { ...m, job_id: this.id, trace_id: sequenced ? this.init.traceId : undefined };
    if (!sequenced) {
      this.owner.send(msg);
      return;
    }
    if (this.allows(this.owner, kind)) {
      const seq = this.owner.sendSequenced(msg);
      this.lastEventSeq = seq;
      this.history.push({ seq, msg });
      if (this.history.length > this.owner.limits.maxBuffered) this.history.shift();
    }
    for (const s of this.subscribers) if (this.allows(s, kind)) s.sendSequenced(msg);
  }

  /** §6.2: an event kind tied to a feature goes only where that feature was negotiated. */
  private allows(s: RuntimeSession, kind?: string): boolean {
    if (kind === 'progress') return s.has('progress');
    if (kind === 'result_chunk') return s.has('result_chunk');
    return true;
  }

  emit(kind: string, body: Record<string, unknown>): void {
    if (isTerminal(this.status)) throw new ArcpError('CANCELLED', 'job has ended');
    this.deliver({ type: 'job.event', payload: { kind, ts: nowIso(), body } }, true, kind);
  }

  private context(): AgentContext {
    const job = this;
    const signal = this.abort.signal;
    let calls = 0;
    const authorizeOrReport = (callId: string, capability: string, target: string) => {
      try {
        authorize(job, capability, target);
      } catch (e) {
        const err = toArcpError(e);
        job.emit('tool_result', { call_id: callId, error: err.toBody() });
        throw err;
      }
    };
    return {
      input: this.init.input,
      jobId: this.id,
      traceId: this.init.traceId,
      agent: this.agentRef,
      version: this.init.version,
      lease: this.lease,
      credentials: this.init.credentials,
      signal,
      log: (level, message, extra) => job.emit('log', { level, message, ...extra }),
      thought: (text) => job.emit('thought', { text }),
      status: (phase, message) => job.emit('status', message === undefined ? { phase } : { phase, message }),
      metric: (name, value, unit, dimensions) => {
        const body: Record<string, unknown> = { name, value };
        if (unit !== undefined) body.unit = unit;
        if (dimensions !== undefined) body.dimensions = dimensions;
        job.emit('metric', body);
        if (name.startsWith('cost.') && name !== 'cost.budget.remaining' && unit && job.budget.has(unit)) {
          const remaining = job.budget.charge(unit, value);
          if (remaining !== undefined) job.emit('metric', { name: 'cost.budget.remaining', value: remaining, unit });
        }
      },
      artifact: (body) => job.emit('artifact_ref', body),
      progress: (current, total, units, message) => {
        const body: Record<string, unknown> = { current };
        if (total !== undefined) body.total = total;
        if (units !== undefined) body.units = units;
        if (message !== undefined) body.message = message;
        job.emit('progress', body);
      },
      event: (kind, body) => job.emit(kind, body),
      toolCall: async (tool, args, run, opts) => {
        const callId = opts?.callId ?? `call_${++calls}`;
        job.emit('tool_call', { tool, args, call_id: callId });
        authorizeOrReport(callId, opts?.capability ?? 'tool.call', opts?.target ?? tool);
        const result = await run();
        job.emit('tool_result', { call_id: callId, result });
        return result;
      },
      useModel: (model) => authorize(job, 'model.use', model),
      delegate: async (req) => {
        const delegateId = req.delegateId ?? newId('del');
        const body: Record<string, unknown> = { delegate_id: delegateId, agent: req.agent, input: req.input ?? {}, lease_request: req.lease_request ?? {} };
        if (req.lease_constraints) body.lease_constraints = req.lease_constraints;
        job.emit('delegate', body);
        let child: RuntimeJob;
        try {
          authorize(job, 'agent.delegate', req.agent.split('@')[0]);
          child = job.host.startChild(job, req, delegateId);
        } catch (e) {
          const err = toArcpError(e);
          job.emit('tool_result', { call_id: delegateId, error: err.toBody() });
          throw err;
        }
        const outcome = await child.done;
        if (outcome.error) throw outcome.error;
        return { jobId: child.id, result: outcome.result };
      },
      streamResult: (chunks, opts) => {
        if (!job.owner.has('result_chunk')) {
          throw new ArcpError('INVALID_REQUEST', "Cannot emit result_chunk event without negotiated 'result_chunk' feature");
        }
        const resultId = newId('res');
        const list = [...chunks].map((c) => (typeof c === 'string' ? Buffer.from(c, 'utf8') : c));
        let size = 0;
        list.forEach((buf, i) => {
          if (buf.length > MAX_CHUNK_BYTES) throw new ArcpError('INTERNAL_ERROR', `result chunk of ${buf.length} bytes exceeds ${MAX_CHUNK_BYTES}`);
          size += buf.length;
          const data = opts.encoding === 'base64' ? buf.toString('base64') : buf.toString('utf8');
          job.emit('result_chunk', { result_id: resultId, chunk_seq: i, data, encoding: opts.encoding, more: i < list.length - 1 });
        });
        return new StreamedResult(resultId, size, opts.summary);
      },
      pace: async () => {
        for (let wait = false; ; wait = true) {
          // A turn of the event loop first (other sessions' frames, upgrades, timers), then a
          // timer while the owner cannot take more: an idle wait, not a spin.
          await new Promise<void>((r) => (wait ? setTimeout(r, PACE_POLL_MS) : setImmediate(r)));
          if (signal.aborted) throw new ArcpError('CANCELLED', 'job has ended');
          if (!job.owner.congested()) return;
        }
      },
      sleep: (ms) =>
        new Promise<void>((resolve, reject) => {
          if (signal.aborted) return reject(new ArcpError('CANCELLED', 'job has ended'));
          const t = setTimeout(() => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          }, ms);
          const onAbort = () => {
            clearTimeout(t);
            reject(new ArcpError('CANCELLED', 'job has ended'));
          };
          signal.addEventListener('abort', onAbort, { once: true });
        }),
    };
  }
}
