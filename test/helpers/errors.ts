import { expect } from 'vitest';
import { ToolError } from '../../src/errors.js';

/** The ToolError `act` throws. */
export function refusal(act: () => unknown): ToolError {
  try {
    act();
  } catch (e) {
    if (e instanceof ToolError) return e;
    throw e;
  }
  throw new Error('expected a ToolError');
}

/** A user mistake's message: one line, no stack trace; returns it trimmed. */
export function oneLine(stderr: string): string {
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
  return stderr.trim();
}

/** A usage error as the CLI reports it: exit 2 and one line. */
export function usageLine(r: { code: number; stderr: string }): string {
  expect(r.code).toBe(2);
  return oneLine(r.stderr);
}
