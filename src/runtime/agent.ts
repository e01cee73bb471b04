import type { Credential, Lease } from '../engine/schemas/common.js';

/** What an agent sees of its job. Every authority-bearing call goes through the lease (§9.3). */
export interface AgentContext {
  readonly input: unknown;
  readonly jobId: string;
  /** The job's 32-hex trace id (§11): what the agent passes on to the services it calls. */
  readonly traceId: string;
  /** Resolved `name` or `name@version`. */
  readonly agent: string;
  readonly version?: string;
  readonly lease: Lease;
  readonly credentials?: readonly Credential[];
  readonly signal: AbortSignal;
  log(level: string, message: string, extra?: Record<string, unknown>): void;
  thought(text: string): void;
  status(phase: string, message?: string): void;
  /** `cost.*` metrics in a budgeted currency decrement the job's budget (§9.6). */
  metric(name: string, value: number, unit?: string, dimensions?: Record<string, unknown>): void;
  artifact(body: { uri: string; content_type: string; byte_size?: number; sha256?: string }): void;
  progress(current: number, total?: number, units?: string, message?: string): void;
  /** Any other kind, e.g. `x-vendor.acme.note`. */
  event(kind: string, body: Record<string, unknown>): void;
  /**
   * Emits `tool_call`, authorizes `capability` on `target` (default `tool.call` on the tool name),
   * runs `run`, emits `tool_result`. A denial is emitted as a `tool_result` error and thrown.
   */
  toolCall<T>(
    tool: string,
    args: unknown,
    run: () => T | Promise<T>,
    opts?: { callId?: string; capability?: string; target?: string },
  ): Promise<T>;
  /** §9.7: authorizes a model invocation against `model.use`. */
  useModel(model: string): void;
  /** §10: emits `delegate`, starts the child job under a subset lease, resolves with its outcome. */
  delegate(req: {
    agent: string;
    input?: unknown;
    lease_request?: Lease;
    lease_constraints?: { expires_at?: string };
    delegateId?: string;
  }): Promise<{ jobId: string; result: unknown }>;
  /** §8.4: streams a result as `result_chunk` events; return the value from the agent. */
  streamResult(chunks: Iterable<Buffer | string>, opts: { encoding: 'utf8' | 'base64'; summary?: string }): StreamedResult;
  sleep(ms: number): Promise<void>;
  /**
   * Lets the runtime serve everyone else, and holds the job while its events have nowhere to
   * go: the owner's connection has more than a megabyte unsent, or the owner is detached and
   * its resume buffer is full. A job emitting in a loop awaits this every few dozen events.
   * Rejects with CANCELLED once the job has ended.
   */
  pace(): Promise<void>;
}

export class StreamedResult {
  constructor(
    readonly resultId: string,
    readonly size: number,
    readonly summary?: string,
  ) {}
}

export type AgentRun = (ctx: AgentContext) => Promise<unknown>;

export interface AgentDefinition {
  name: string;
  /** Unversioned agents have one `run`; versioned ones a run per version. */
  run?: AgentRun;
  versions?: Record<string, AgentRun>;
  default?: string;
  /** Ask the provisioner for credentials at acceptance (§9.8). */
  credentials?: boolean;
}
