import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ToolError } from '../errors.js';

const AgentsMap = z.record(z.string().regex(/^[a-z0-9][a-z0-9._-]*$/), z.string().min(1));

/** `--agents map.json`: profile agent name → the runtime's name for it. */
export function readAgentsMap(path: string): Record<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ToolError('E_INPUT', `cannot read --agents ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'a JSON object, e.g. {"echo": "my-echo", "slow": "sleeper"}');
  }
  const r = AgentsMap.safeParse(json);
  if (!r.success) throw new ToolError('E_INPUT', `--agents ${path} is not a map of agent names: ${r.error.issues[0].path.join('.')}: ${r.error.issues[0].message}`, 'a JSON object from profile names to your runtime\'s names, e.g. {"echo": "my-echo"}');
  return r.data;
}
