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
