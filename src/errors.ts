/** The tool's own failures, as distinct from wire errors (engine/errors.ts). */
export type ToolErrorCode =
  | 'E_USAGE'
  | 'E_INPUT'
  | 'E_CONNECT'
  | 'E_UPSTREAM'
  | 'E_TAPE_CORRUPT'
  | 'E_TAPE_FOREIGN'
  | 'E_TAPE_NEWER'
  | 'E_IO';

export class ToolError extends Error {
  constructor(
    readonly code: ToolErrorCode,
    message: string,
    /** What the user can do about it. */
    readonly hint?: string,
    readonly exitCode: 1 | 2 = 2,
  ) {
    super(message);
    this.name = 'ToolError';
  }
}

/** Parses user-supplied JSON, naming the flag on failure. */
export function parseJsonFlag(flag: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ToolError('E_INPUT', `--${flag} is not valid JSON: ${(e as Error).message}`, `quote it for the shell, e.g. --${flag} '{"key":"value"}'`);
  }
}
