import { Chalk, type ChalkInstance } from 'chalk';

/**
 * Colour on a TTY, unless NO_COLOR is set to a non-empty value (no-color.org: an empty NO_COLOR
 * does not count). FORCE_COLOR decides when set: `0`/`false` turns colour off, anything else on
 * (even when piped), as Node and chalk read it.
 */
export function colourOn(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return !['0', 'false'].includes(force.toLowerCase());
  if (env.NO_COLOR) return false;
  return Boolean(stream.isTTY);
}

export function styleFor(stream: NodeJS.WriteStream): ChalkInstance {
  return new Chalk({ level: colourOn(stream) ? 1 : 0 });
}
