import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ToolError } from '../errors.js';

/** Runs `work` over `items`, at most `n` at a time. */
export async function pool<T>(items: T[], n: number, work: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(n, items.length)) }, async () => {
    while (next < items.length) await work(items[next++]);
  });
  await Promise.all(lanes);
}

/** The folder for a run's tapes: the one given (created if missing), else a fresh temp folder. */
export function tapeDir(given?: string): string {
  if (given === undefined) return mkdtempSync(join(tmpdir(), 'arcp-conform-'));
  try {
    mkdirSync(given, { recursive: true });
  } catch (e) {
    throw new ToolError('E_USAGE', `cannot create --tapes ${given}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'name a folder you can write to');
  }
  return given;
}

/** `session/resume/gap-free-replay` → `session.resume.gap-free-replay.tape`. */
export const tapeName = (checkId: string): string => `${checkId.replace(/\//g, '.')}.tape`;

/** Waits `ms`, or less if `signal` fires: a scenario's deliberate pause, never a wait for a reply. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      resolve();
    }, ms);
    signal?.addEventListener('abort', stop, { once: true });
  });
}
