import { Command, Flags } from '@oclif/core';
import { describeFailure } from '../src/render/failure.js';

/** Shared flags and error handling; not a command (oclif skips `_*` files, see package.json). */
export abstract class ArcpCommand extends Command {
  static override baseFlags = {
    json: Flags.boolean({ description: 'machine-readable output on stdout', default: false }),
  };

  /** Every failure becomes one line on stderr and a documented exit code; no stack traces. */
  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if (err.oclif?.exit !== undefined && err.oclif.exit !== 2 && !err.message) throw err;
    if (err.constructor?.name === 'ExitError') throw err;
    const isParse = /Unexpected argument|Nonexistent flag|Expected|Missing required|Parsing --|flag/i.test(err.message) && err.oclif !== undefined;
    const f = isParse ? { line: `arcp: ${err.message.split('\n')[0]} (see --help)`, exitCode: 2 } : describeFailure(err);
    process.stderr.write(f.line + '\n');
    this.exit(f.exitCode);
  }

  protected emitJson(value: unknown): void {
    process.stdout.write(JSON.stringify(value) + '\n');
  }
}
