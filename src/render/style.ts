import { Chalk, type ChalkInstance } from 'chalk';

/** Colour only when the stream is a TTY and NO_COLOR is unset. */
export function styleFor(stream: NodeJS.WriteStream): ChalkInstance {
  const on = Boolean(stream.isTTY) && process.env.NO_COLOR === undefined && process.env.FORCE_COLOR !== '0';
  return new Chalk({ level: on ? 1 : 0 });
}
