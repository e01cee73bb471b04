import { ArcpError } from './errors.js';

/** §7.5 grammar. */
export const AGENT_NAME = /^[a-z0-9][a-z0-9._-]*$/;
export const AGENT_VERSION = /^[a-zA-Z0-9.+_-]+$/;

export interface AgentRef {
  name: string;
  version?: string;
}

/** Parses `name` or `name@version`; throws INVALID_REQUEST on a grammar violation. */
export function parseAgentRef(ref: string): AgentRef {
  const at = ref.indexOf('@');
  const name = at < 0 ? ref : ref.slice(0, at);
  const version = at < 0 ? undefined : ref.slice(at + 1);
  if (!AGENT_NAME.test(name)) throw new ArcpError('INVALID_REQUEST', `Invalid agent name "${ref}"`, { agent: ref });
  if (version !== undefined && !AGENT_VERSION.test(version)) {
    throw new ArcpError('INVALID_REQUEST', `Invalid agent version in "${ref}"`, { agent: ref });
  }
  return version === undefined ? { name } : { name, version };
}

export const formatAgentRef = (r: AgentRef): string => (r.version ? `${r.name}@${r.version}` : r.name);

export interface AgentInventory {
  name: string;
  versions: readonly string[];
  default?: string;
}

/**
 * §7.5 resolution: a bare name takes the advertised default, else the last registered version
 * (the runtime MAY pick any); an exact version must exist.
 */
export function resolveAgent(ref: AgentRef, inventory: readonly AgentInventory[]): AgentRef {
  const entry = inventory.find((a) => a.name === ref.name);
  if (!entry) throw new ArcpError('AGENT_NOT_AVAILABLE', `Agent "${ref.name}" is not registered`, { agent: ref.name });
  if (ref.version !== undefined) {
    if (!entry.versions.includes(ref.version)) {
      throw new ArcpError('AGENT_VERSION_NOT_AVAILABLE', `Agent "${formatAgentRef(ref)}" is not available`, {
        agent: ref.name,
        requested: ref.version,
        available: [...entry.versions],
      });
    }
    return ref;
  }
  if (entry.versions.length === 0) return { name: ref.name };
  return { name: ref.name, version: entry.default ?? entry.versions[entry.versions.length - 1] };
}
