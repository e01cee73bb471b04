import { Command, Flags } from '@oclif/core';
import { describeFailure } from '../src/render/failure.js';
import { jsonLine } from '../src/render/json/emit.js';
import type { Output, OutputName } from '../src/render/json/schemas.js';
import { usageLine, usageParts } from '../src/render/usage.js';
import { ToolError } from '../src/errors.js';

/** Shared flags and error handling; not a command (oclif skips `_*` files, see package.json). */
export abstract class ArcpCommand extends Command {
  static override baseFlags = {
    json: Flags.boolean({ description: 'machine-readable output on stdout', default: false }),
  };

  /**
   * Every failure becomes one line on stderr and a documented exit code; no stack traces.
   * Under --json it is an arcp-error/1 object on stdout instead, the last line there, so a
   * script reading stdout gets JSON whichever way the command ended.
   */
  protected override async catch(err: Error & { oclif?: { exit?: number } }): Promise<unknown> {
    if (err.constructor?.name === 'ExitError') throw err; // this.exit() inside run()
    const command = this.id?.split(':').join(' ') ?? '';
    // oclif's own errors (unknown flag, bad value, missing argument) carry `oclif`; they are usage errors.
    const f = err.oclif ? { line: usageLine(err, command), code: 'E_USAGE', ...usageParts(err, command), exitCode: 2 } : describeFailure(err);
    if (this.jsonRequested()) process.stdout.write(jsonLine('arcp-error/1', { code: f.code, message: f.message, ...(f.hint ? { hint: f.hint } : {}), exitCode: f.exitCode }));
    else process.stderr.write(f.line + '\n');
    this.exit(f.exitCode);
  }

  /** --json among the words before `--`, read raw: the parse itself may be what failed. */
  protected jsonRequested(): boolean {
    const dd = this.argv.indexOf('--');
    return (dd >= 0 ? this.argv.slice(0, dd) : this.argv).includes('--json');
  }

  /**
   * Refuses positionals nobody asked for (`arcp replay a.tape b.tape` used a.tape silently):
   * commands that take a command after `--` parse loosely, so the extra words land in `argv`.
   */
  protected rejectExtraArgs(argv: string[], takes: number): void {
    const extra = argv.slice(takes, argv.length - this.commandAfterDashes().length);
    if (extra.length) throw new ToolError('E_USAGE', `unexpected argument${extra.length === 1 ? '' : 's'}: ${extra.join(' ')}`, `see arcp ${this.id?.split(':').join(' ')} --help; a command to run goes after --`);
  }

  /** The words after `--`, from the raw argv: oclif re-sorts args after `--` when a word repeats one before it. */
  protected commandAfterDashes(): string[] {
    const dd = this.argv.indexOf('--');
    return dd >= 0 ? this.argv.slice(dd + 1) : [];
  }

  /** One --json line on stdout, under its schema (src/render/json/schemas.ts). */
  protected emitJson<N extends OutputName>(name: N, body: Output<N>, out: NodeJS.WritableStream = process.stdout): void {
    out.write(jsonLine(name, body));
  }

  /** A document in a format of its own, which names its schema itself (execution records: arcp.records/1). */
  protected emitDocument(doc: unknown): void {
    process.stdout.write(JSON.stringify(doc) + '\n');
  }

  /**
   * A progress line on stderr once a second, only when stderr is a terminal and `enabled`.
   * `frames()` reads the count so far; `line` renders it with the rate since the last line.
   * Returns what stops the ticker and clears the line.
   */
  protected progress(enabled: boolean, frames: () => number, line: (perSec: number) => string): () => void {
    const err = process.stderr;
    if (!err.isTTY || !enabled) return () => undefined;
    let last = { t: performance.now(), frames: frames() };
    const timer = setInterval(() => {
      const now = performance.now();
      const n = frames();
      err.write(`\r\u001b[2K${line(((n - last.frames) * 1000) / (now - last.t))}`);
      last = { t: now, frames: n };
    }, 1000);
    timer.unref();
    return () => {
      clearInterval(timer);
      err.write('\r\u001b[2K');
    };
  }
}
