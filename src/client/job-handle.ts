import { ArcpError } from '../engine/errors.js';
import type { Message } from '../engine/schemas/messages.js';
import { jobMachine } from '../engine/session/machine.js';

export type JobMessage = Message<'job.event' | 'job.result' | 'job.error' | 'job.cancelled' | 'job.accepted'>;

/** Client view of one job: its messages in order, and its outcome. */
export class JobHandle {
  jobId?: string;
  accepted?: Message<'job.accepted'>['payload'];
  readonly machine = jobMachine();
  readonly messages: JobMessage[] = [];
  readonly children: JobHandle[] = [];
  private listeners: ((m: JobMessage) => void)[] = [];
  private resolveDone!: (p: Message<'job.result'>['payload']) => void;
  private rejectDone!: (e: ArcpError) => void;
  /** Resolves with the `job.result` payload; rejects with the `job.error` as an ArcpError. */
  readonly done: Promise<Message<'job.result'>['payload']>;
  private resolveAccepted!: (h: JobHandle) => void;
  private rejectAccepted!: (e: ArcpError) => void;
  readonly acceptedP: Promise<JobHandle>;

  constructor(readonly observer = false) {
    this.done = new Promise((res, rej) => {
      this.resolveDone = res;
      this.rejectDone = rej;
    });
    this.acceptedP = new Promise((res, rej) => {
      this.resolveAccepted = res;
      this.rejectAccepted = rej;
    });
    // An unobserved outcome is not an unhandled rejection: callers may only care about events.
    this.done.catch(() => undefined);
    this.acceptedP.catch(() => undefined);
  }

  onMessage(cb: (m: JobMessage) => void): void {
    for (const m of this.messages) cb(m);
    this.listeners.push(cb);
  }

  /** Events only (`job.event` payloads), in arrival order. */
  get events(): Message<'job.event'>['payload'][] {
    return this.messages.filter((m) => m.type === 'job.event').map((m) => (m as Message<'job.event'>).payload);
  }

  markAccepted(m: Message<'job.accepted'>): void {
    this.jobId = m.payload.job_id;
    this.accepted = m.payload;
    if (this.machine.is('pending')) this.machine.to('running');
    this.push(m);
    this.resolveAccepted(this);
  }

  markRejected(err: ArcpError, m?: Message<'job.error'>): void {
    if (m) {
      this.jobId ??= m.job_id;
      this.push(m);
    }
    if (this.machine.can('error')) this.machine.to('error');
    this.rejectAccepted(err);
    this.rejectDone(err);
  }

  push(m: JobMessage): void {
    this.messages.push(m);
    for (const cb of this.listeners) cb(m);
    if (m.type === 'job.result') {
      if (this.machine.is('pending')) this.machine.to('running');
      if (this.machine.can('success')) this.machine.to('success');
      this.resolveDone(m.payload);
    } else if (m.type === 'job.error') {
      const status = m.payload.final_status;
      if (this.machine.is('pending')) this.machine.to('running');
      if (this.machine.can(status)) this.machine.to(status);
      this.rejectDone(ArcpError.fromBody(m.payload));
    }
  }
}
