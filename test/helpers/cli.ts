import { join } from 'node:path';
import { execa } from 'execa';

/** The built CLI entry (tests run after `npm run build`). */
export const BIN = join(import.meta.dirname, '../../bin/run.js');

/** Runs `arcp ARGS` to completion without colour; never throws on a non-zero exit. */
export const arcp = (args: string[]) => execa(process.execPath, [BIN, ...args], { reject: false, env: { NO_COLOR: '1' } });
