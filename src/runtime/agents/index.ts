import type { AgentDefinition } from '../agent.js';
import { assistantAgent, type LlmSettings } from './assistant.js';
import { chatty, child, echo, fail, llm, parent, progress, refactor, report } from './simple.js';
import { budget, flood, leaseWatch, slow, ticker } from './timed.js';

/** The agents of shared/spec/conformance-agents.md, with exactly that behaviour. */
export const CONFORMANCE_AGENTS: readonly AgentDefinition[] = [
  echo,
  chatty,
  progress,
  report,
  budget,
  leaseWatch,
  parent,
  child,
  slow,
  ticker,
  flood,
  fail,
  refactor,
  llm,
];

/** What `arcp serve` hosts: the conformance agents and the LLM-driven `assistant`. */
export function referenceAgents(llm: () => LlmSettings | undefined): AgentDefinition[] {
  return [...CONFORMANCE_AGENTS, assistantAgent(llm)];
}
