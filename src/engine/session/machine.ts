/** A small explicit state machine: illegal transitions throw, so protocol bugs surface early. */
export class StateMachine<S extends string> {
  private current: S;
  constructor(
    readonly name: string,
    initial: S,
    private readonly edges: Readonly<Record<S, readonly S[]>>,
  ) {
    this.current = initial;
  }
  get state(): S {
    return this.current;
  }
  is(...states: S[]): boolean {
    return states.includes(this.current);
  }
  can(to: S): boolean {
    return this.edges[this.current].includes(to);
  }
  to(next: S): void {
    if (!this.can(next)) throw new Error(`${this.name}: illegal transition ${this.current} → ${next}`);
    this.current = next;
  }
}

/** Runtime side of a session: hello → open; a dropped transport detaches until resume or expiry. */
export type RuntimeSessionState = 'open' | 'detached' | 'closed';
export const runtimeSession = (): StateMachine<RuntimeSessionState> =>
  new StateMachine<RuntimeSessionState>('session', 'open', {
    open: ['detached', 'closed'],
    detached: ['open', 'closed'],
    closed: [],
  });

/** Client side of a session. */
export type ClientSessionState = 'connecting' | 'open' | 'resuming' | 'closing' | 'closed';
export const clientSession = (): StateMachine<ClientSessionState> =>
  new StateMachine<ClientSessionState>('client session', 'connecting', {
    connecting: ['open', 'closed'],
    open: ['resuming', 'closing', 'closed'],
    resuming: ['open', 'closed'],
    closing: ['closed'],
    closed: [],
  });

/** §7.3 job lifecycle, shared by both roles. */
export type JobState = 'pending' | 'running' | 'success' | 'error' | 'cancelled' | 'timed_out';
export const jobMachine = (): StateMachine<JobState> =>
  new StateMachine<JobState>('job', 'pending', {
    pending: ['running', 'error', 'cancelled'],
    running: ['success', 'error', 'cancelled', 'timed_out'],
    success: [],
    error: [],
    cancelled: [],
    timed_out: [],
  });
export const isTerminal = (s: JobState): boolean => s !== 'pending' && s !== 'running';
