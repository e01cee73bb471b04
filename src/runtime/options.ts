import { FEATURES } from '../engine/negotiate.js';
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

/** The reference runtime supports every feature the draft names. */
export const RUNTIME_FEATURES = FEATURES;

export const DEFAULTS = {
  heartbeatIntervalSec: 30,
  resumeWindowSec: 600,
  backPressureLag: 100,
  maxFrameBytes: 4 * 1024 * 1024,
  maxBuffered: 100_000,
};
