import { ArcpError } from '../../../src/engine/errors.js';
import { newTraceId } from '../../../src/engine/ids.js';
import { validateExpiresAt } from '../../../src/engine/lease.js';
import type { StreamedResult } from '../../../src/runtime/agent.js';
import { StrangerRuntime, type Conn, type Job, type Sess } from './stranger-runtime.js';

type Obj = Record<string, any>;

export interface BrokenRuntime {
  name: string;
  /** The one rule it breaks, in a few words. */
  breaks: string;
  /** The checks meant to catch it: exactly these must get worse than against the faithful stranger. */
  caughtBy: string[];
  make: new (o: ConstructorParameters<typeof StrangerRuntime>[0]) => StrangerRuntime;
}

const TERMINAL = new Set(['success', 'error', 'cancelled', 'timed_out']);

/** Each a one-method variation of the faithful stranger. */
export const BROKEN_RUNTIMES: BrokenRuntime[] = [
  {
    name: 'seq-gap',
    breaks: 'skips event_seq 4 in every session',
    caughtBy: ['wire/seq/gap-free'],
    make: class extends StrangerRuntime {
      protected override nextSeq(s: Sess): number {
        return ++s.seq === 4 ? ++s.seq : s.seq;
      }
    },
  },
  {
    name: 'seq-duplicate',
    breaks: 'numbers two frames 6 in every session',
    caughtBy: ['wire/seq/strictly-monotonic'],
    make: class extends StrangerRuntime {
      private twice = new WeakSet<Sess>();
      protected override nextSeq(s: Sess): number {
        if (s.seq === 6 && !this.twice.has(s)) {
          this.twice.add(s);
          return 6;
        }
        return ++s.seq;
      }
    },
  },
  {
    name: 'list-other-principals',
    breaks: "lists every principal's jobs",
    caughtBy: ['session/list-jobs/principal-isolation'],
    make: class extends StrangerRuntime {
      protected override listed(): boolean {
        return true;
      }
    },
  },
  {
    name: 'past-expires-at',
    breaks: 'accepts an expires_at in the past',
    caughtBy: ['lease/expires-at/invalid-rejected'],
    make: class extends StrangerRuntime {
      protected override checkExpiresAt(value: string): number {
        return validateExpiresAt(value, 0);
      }
    },
  },
  {
    name: 'budget-retryable',
    breaks: 'sends BUDGET_EXHAUSTED with retryable true',
    caughtBy: ['wire/errors/retryable'],
    make: class extends StrangerRuntime {
      protected override errorBody(e: ArcpError): Obj {
        const b = super.errorBody(e);
        return b.code === 'BUDGET_EXHAUSTED' ? { ...b, retryable: true } : b;
      }
    },
  },
  {
    name: 'welcome-unoffered-features',
    breaks: 'lists features in the welcome that the hello did not offer',
    caughtBy: ['wire/features/welcome-acknowledges'],
    make: class extends StrangerRuntime {
      protected override welcomeFeatures(): string[] {
        return ['heartbeat', 'ack', 'list_jobs', 'subscribe', 'lease_expires_at', 'cost.budget', 'model.use', 'provisioned_credentials', 'progress', 'result_chunk', 'agent_versions'];
      }
    },
  },
  {
    name: 'no-pong',
    breaks: 'never answers session.ping',
    caughtBy: ['session/heartbeat/pong'],
    make: class extends StrangerRuntime {
      protected override pong(): void {}
    },
  },
  {
    name: 'unrotated-token',
    breaks: 'resumes with the same resume_token again',
    caughtBy: ['session/resume/token-rotation'],
    make: class extends StrangerRuntime {
      protected override rotate(s: Sess): string {
        return s.token;
      }
    },
  },
  {
    name: 'job-lost-after-resume',
    breaks: 'forgets the jobs of a session whose transport dropped (the reference SDK’s own bug)',
    caughtBy: ['session/resume/job-continues'],
    make: class extends StrangerRuntime {
      private lost = new WeakSet<Job>();
      protected override onDetach(s: Sess, c: Conn): void {
        if (c.ended === 'drop') for (const j of s.jobs) if (!TERMINAL.has(j.status)) this.lost.add(j);
      }
      protected override delivers(job: Job, s: Sess, kind?: string): boolean {
        return !(this.lost.has(job) && s === job.owner) && super.delivers(job, s, kind);
      }
      protected override listed(s: Sess, j: Job): boolean {
        return !this.lost.has(j) && super.listed(s, j);
      }
    },
  },
  {
    name: 'chunks-out-of-order',
    breaks: 'emits result chunk 1 before chunk 0',
    caughtBy: ['wire/result-chunk/rules'],
    make: class extends StrangerRuntime {
      protected override chunkOrder(b: Obj[]): Obj[] {
        return b.length > 1 ? [b[1], b[0], ...b.slice(2)] : b;
      }
    },
  },
  {
    name: 'credentials-to-observer',
    breaks: 'shows credentials to an observer who did not submit the job',
    caughtBy: ['credentials/submitter-only'],
    make: class extends StrangerRuntime {
      protected override showCredentials(): boolean {
        return true;
      }
    },
  },
  {
    name: 'subscriber-cancels',
    breaks: 'lets a subscriber cancel the job',
    caughtBy: ['jobs/subscribe/no-cancel-authority'],
    make: class extends StrangerRuntime {
      protected override mayCancel(): boolean {
        return true;
      }
    },
  },
  {
    name: 'cancel-unacknowledged',
    breaks: 'ends a cancelled job without job.cancelled',
    caughtBy: ['jobs/cancel/acknowledged'],
    make: class extends StrangerRuntime {
      protected override cancel(j: Job, reason: string): void {
        this.end(j, 'cancelled', new ArcpError('CANCELLED', reason));
      }
    },
  },
  {
    name: 'idempotency-new-job',
    breaks: 'starts a new job for a repeated idempotency_key',
    caughtBy: ['jobs/idempotency/same-accepted'],
    make: class extends StrangerRuntime {
      protected override sameKeySameJob(): boolean {
        return false;
      }
    },
  },
  {
    name: 'budget-early',
    breaks: 'refuses operations once under 0.50 left, before the counter reaches 0',
    caughtBy: ['lease/budget/exhausted-at-zero'],
    make: class extends StrangerRuntime {
      protected override budgetError(j: Job): ArcpError | undefined {
        const usd = j.budget.remainingMicros('USD');
        return usd !== undefined && usd < 500_000 ? new ArcpError('BUDGET_EXHAUSTED', 'USD budget exhausted') : super.budgetError(j);
      }
    },
  },
  {
    name: 'lease-expires-early',
    breaks: 'expires a lease 1.5 s before its expires_at',
    caughtBy: ['lease/expires-at/enforced'],
    make: class extends StrangerRuntime {
      protected override expiryOf(j: Job): number {
        return j.expiresAt! - 1500;
      }
    },
  },
  {
    name: 'lease-not-enforced',
    breaks: 'runs operations the lease does not cover',
    caughtBy: ['lease/enforcement/permission-denied'],
    make: class extends StrangerRuntime {
      protected override authorize(): void {}
    },
  },
  {
    name: 'unknown-fields-refused',
    breaks: 'refuses envelopes with fields it does not know',
    caughtBy: ['envelope/unknown-fields'],
    make: class extends StrangerRuntime {
      protected override acceptEnvelope(m: Obj): boolean {
        return Object.keys(m).every((k) => ['arcp', 'id', 'type', 'session_id', 'trace_id', 'job_id', 'event_seq', 'extensions', 'payload'].includes(k));
      }
    },
  },
  {
    name: 'delegation-unbounded',
    breaks: "accepts a delegated lease broader than the parent's",
    caughtBy: ['delegation/subset'],
    make: class extends StrangerRuntime {
      protected override childLease(_p: Job, lease: Obj) {
        return { lease, constraints: undefined, expiresAt: undefined };
      }
    },
  },
  {
    name: 'trace-dropped-for-child',
    breaks: 'gives a sub-agent a fresh trace id',
    caughtBy: ['trace/propagated'],
    make: class extends StrangerRuntime {
      protected override traceFor(given: string | undefined, parent?: Job): string {
        return parent ? newTraceId() : super.traceFor(given);
      }
    },
  },
  {
    name: 'pinned-version-ignored',
    breaks: 'runs the default handler for a pinned version',
    caughtBy: ['agents/versions/pinned'],
    make: class extends StrangerRuntime {
      protected override handlerVersion(r: { name: string; version?: string }): string | undefined {
        return r.version ? '2.0.0' : undefined;
      }
    },
  },
  {
    name: 'unavailable-version-falls-back',
    breaks: 'runs the default version when the requested one does not exist',
    caughtBy: ['agents/versions/unavailable'],
    make: class extends StrangerRuntime {
      protected override resolve(ref: string) {
        try {
          return super.resolve(ref);
        } catch (e) {
          if (e instanceof ArcpError && e.code === 'AGENT_VERSION_NOT_AVAILABLE') return super.resolve(ref.split('@')[0]);
          throw e;
        }
      }
    },
  },
  {
    name: 'progress-without-feature',
    breaks: 'sends progress events to sessions that did not negotiate `progress`',
    caughtBy: ['session/features/progress-gated'],
    make: class extends StrangerRuntime {
      protected override sendsProgressTo(): boolean {
        return true;
      }
    },
  },
  {
    name: 'inline-result-with-chunks',
    breaks: 'puts an inline result in the job.result of a streamed result',
    caughtBy: ['wire/result-chunk/rules'],
    make: class extends StrangerRuntime {
      protected override streamedResult(v: StreamedResult): Obj {
        return { ...super.streamedResult(v), result: { inline: true } };
      }
    },
  },
  {
    name: 'heartbeat-loss-cancels',
    breaks: 'cancels the jobs of a session it declares lost',
    caughtBy: ['session/heartbeat/jobs-survive-loss'],
    make: class extends StrangerRuntime {
      protected override onHeartbeatLost(s: Sess): void {
        for (const j of s.jobs) this.end(j, 'cancelled', new ArcpError('CANCELLED', 'heartbeat lost'));
      }
    },
  },
  {
    name: 'close-cancels-jobs',
    breaks: 'cancels in-flight jobs when the session is closed',
    caughtBy: ['session/close/jobs-continue'],
    make: class extends StrangerRuntime {
      protected override onBye(s: Sess): void {
        for (const j of s.jobs) this.end(j, 'cancelled', new ArcpError('CANCELLED', 'session closed'));
      }
    },
  },
  {
    name: 'ack-frees-unacked',
    breaks: 'frees every delivered event on an ack, acknowledged or not',
    caughtBy: ['session/ack/unacked-kept'],
    make: class extends StrangerRuntime {
      protected override ack(s: Sess, n: number): void {
        super.ack(s, n);
        s.buffer = [];
      }
    },
  },
  {
    name: 'subscribe-any-principal',
    breaks: "lets any principal subscribe to any job",
    caughtBy: ['jobs/subscribe/authorization'],
    make: class extends StrangerRuntime {
      protected override maySubscribe(): boolean {
        return true;
      }
    },
  },
  {
    name: 'any-token',
    breaks: 'welcomes a hello with any bearer token, or none',
    caughtBy: ['session/auth/bad-token'],
    make: class extends StrangerRuntime {
      protected override principalOf(token: string | undefined): string {
        return super.principalOf(token) ?? 'anonymous';
      }
    },
  },
  {
    name: 'no-timeout',
    breaks: 'lets a job run past max_runtime_sec',
    caughtBy: ['jobs/timeout/max-runtime'],
    make: class extends StrangerRuntime {
      protected override enforceTimeout(): boolean {
        return false;
      }
    },
  },
];
