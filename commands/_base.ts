import { Command, Flags } from '@oclif/core';
import { describeFailure } from '../src/render/failure.js';

/** Shared flags and error handling; not a command (oclif skips `_*` files, see package.json). */
export abstract class ArcpCommand extends Command {
  static override baseFlags = {
    json: Flags.boolean({ description: 'machine-readable output on stdout', default: false }),
  };

  /** Every failure becomes one line on stderr and a documented exit code; no stack traces. */
  protected override async catch(err: Error & { oclif?: { exit?: number } }): Promise<unknown> {
    if (err.constructor?.name === 'ExitError') throw err; // this.exit() inside run()
    // oclif's own errors (unknown flag, bad value, missing flag) carry `oclif`; they are usage errors.
    const f = err.oclif
      ? { line: `arcp: ${err.message.replace(/\s*\n\s*/g, ' ').replace(/See more help with --help$/, '').trim()} (see --help)`, exitCode: err.oclif.exit ?? 2 }
      : describeFailure(err);
    process.stderr.write(f.line + '\n');
    this.exit(f.exitCode);
  }

  /** The words after `--`, from the raw argv: oclif re-sorts args after `--` when a word repeats one before it. */
  protected commandAfterDashes(): string[] {
    const dd = this.argv.indexOf('--');
    return dd >= 0 ? this.argv.slice(dd + 1) : [];
  }

  protected emitJson(value: unknown): void {
    process.stdout.write(JSON.stringify(value) + '\n');
  }
}
