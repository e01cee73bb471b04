import type { Hook } from '@oclif/core';
import { notFoundLine } from '../src/render/usage.js';

/**
 * An unknown command: one line with the nearest real one, exit 2 (a usage error). Not
 * @oclif/plugin-not-found: it prompts on a terminal (reading stdin, which is a protocol for
 * some commands) and exits 127.
 */
const hook: Hook.CommandNotFound = async function (opts) {
  const commands = opts.config.commands.filter((c) => !c.hidden).map((c) => c.id.split(':').join(' '));
  process.stderr.write(notFoundLine(opts.id.split(':').join(' '), commands) + '\n');
  this.exit(2);
};

export default hook;
