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

/**
 * A listen that failed (`serve`, `record`, `replay --listen`, `llm serve`), as one line: which address, why,
 * and which flag to change. Anything else is returned as it came.
 */
export function bindError(e: unknown, at: { host?: string; port?: number; flag?: string }): unknown {
  const err = e as NodeJS.ErrnoException & { hostname?: string };
  const host = at.host ?? '127.0.0.1';
  const where = `${host.includes(':') ? `[${host}]` : host}:${at.port ?? 0}`;
  const flag = at.flag ?? '--port';
  switch (err?.code) {
    case 'EADDRINUSE':
      return new ToolError('E_USAGE', `cannot listen on ${where}: the port is already in use`, `pick another ${flag}, or 0 for any free port`);
    case 'EADDRNOTAVAIL':
      return new ToolError('E_USAGE', `cannot listen on ${where}: ${host} is not an address of this machine`, 'pass --host 127.0.0.1 or another local address');
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ToolError('E_USAGE', `cannot listen on ${where}: the host name ${host} does not resolve`, 'pass --host 127.0.0.1 or another local address');
    case 'EACCES':
      return new ToolError('E_USAGE', `cannot listen on ${where}: not allowed (ports below 1024 need privileges)`, `pick a ${flag} above 1023, or 0 for any free port`);
    default:
      return e;
  }
}
