import { ArcpError } from '../engine/errors.js';
import { ToolError } from '../errors.js';

export interface Failure {
  line: string;
  exitCode: number;
}

/** Any thrown thing → one line for the user and an exit code (0 ok, 1 failed, 2 usage/input). */
export function describeFailure(e: unknown): Failure {
  if (e instanceof ToolError) return { line: `arcp: ${e.message}${e.hint ? ` (${e.hint})` : ''}`, exitCode: e.exitCode };
  if (e instanceof ArcpError) return { line: `arcp: ${e.code}: ${e.message}`, exitCode: 1 };
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ECONNREFUSED') {
    return { line: `arcp: connection refused (${err.message}): is the runtime running at that address?`, exitCode: 2 };
  }
  return { line: `arcp: ${err?.message ?? String(e)}`, exitCode: 2 };
}
