import type { AgentDefinition } from './agent.js';
import type { Provisioner } from './provisioner.js';

export interface RuntimeOptions {
  /** bearer token → principal (§6.1). */
  tokens: Map<string, string>;
  agents: readonly AgentDefinition[];
  name?: string;
  version?: string;
  heartbeatIntervalSec?: number;
  resumeWindowSec?: number;
  /** Unacknowledged events before a `status {phase:"back_pressure"}` (§6.5). */
  backPressureLag?: number;
  maxFrameBytes?: number;
  maxBuffered?: number;
  provisioner?: Provisioner;
  /** Explicit observation policy (§14): observer principal → principals whose jobs it may see. */
  observers?: Map<string, Set<string>>;
  /** Where the runtime says what it is doing (never stdout in stdio mode). */
  log?: (line: string) => void;
}

export const RUNTIME_FEATURES = [
  'heartbeat',
  'ack',
  'list_jobs',
  'subscribe',
  'lease_expires_at',
  'cost.budget',
  'model.use',
  'provisioned_credentials',
  'progress',
  'result_chunk',
  'agent_versions',
] as const;

export const DEFAULTS = {
  heartbeatIntervalSec: 30,
  resumeWindowSec: 600,
  backPressureLag: 100,
  maxFrameBytes: 4 * 1024 * 1024,
  maxBuffered: 100_000,
};
