import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { execa } from 'execa';
import { onTestFinished } from 'vitest';

/** The built CLI entry (tests run after `npm run build`). */
export const BIN = join(import.meta.dirname, '../../bin/run.js');

/** Runs `arcp ARGS` to completion without colour; never throws on a non-zero exit. */
export const arcp = (args: string[]) => execa(process.execPath, [BIN, ...args], { reject: false, env: { NO_COLOR: '1' } });

/** Kills `child` when the test ends, however it ends (an assertion that fails first included). */
export function reap<T extends Pick<ChildProcess, 'exitCode' | 'signalCode' | 'kill'>>(child: T): T {
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}
