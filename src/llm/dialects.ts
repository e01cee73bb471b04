import { anthropic } from './anthropic.js';
import type { LlmDialect } from './dialect.js';
import { openai } from './openai.js';

export const DIALECTS: Record<LlmDialect['name'], LlmDialect> = { openai, anthropic };
export const DIALECT_NAMES = Object.keys(DIALECTS) as LlmDialect['name'][];

/** The API a request path speaks, by its endpoint (`…/chat/completions`, `…/messages`), query string ignored. */
export function dialectForPath(path: string): LlmDialect | undefined {
  const p = path.split('?')[0].replace(/\/+$/, '');
  return Object.values(DIALECTS).find((d) => p.endsWith(d.endpoint));
}

/** Where a runtime finds its LLM API (`arcp serve` reads it); `arcp record` and `arcp fork` point a runtime they spawn at themselves with it. */
export const LLM_URL_ENV = 'ARCP_LLM_URL';
