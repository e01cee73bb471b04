import { ArcpError } from '../engine/errors.js';
import { ToolError } from '../errors.js';

export interface Failure {
  /** The one line a person reads. */
  line: string;
  /** The same in parts, for `--json` (arcp-error/1). */
  code: string;
  message: string;
  hint?: string;
  exitCode: number;
}

/** Any thrown thing → one line for the user and an exit code (0 ok, 1 failed, 2 usage/input). */
export function describeFailure(e: unknown): Failure {
  if (e instanceof ToolError) return { line: `arcp: ${e.message}${e.hint ? ` (${e.hint})` : ''}`, code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}), exitCode: e.exitCode };
  if (e instanceof ArcpError) return { line: `arcp: ${e.code}: ${e.message}`, code: e.code, message: e.message, exitCode: 1 };
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ECONNREFUSED') {
    const hint = 'is the runtime running at that address?';
    return { line: `arcp: connection refused (${err.message}): ${hint}`, code: 'E_CONNECT', message: `connection refused (${err.message})`, hint, exitCode: 2 };
  }
  const message = err?.message ?? String(e);
  return { line: `arcp: ${message}`, code: 'E_INTERNAL', message, exitCode: 2 };
}
