import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { LineSplitter } from './lines.js';
import { BaseTransport } from './transport.js';

/** NDJSON over a pair of streams (§4.2): one envelope per line, the line's bytes kept exact. */
export class StdioTransport extends BaseTransport {
  readonly kind = 'stdio' as const;
  private readonly lines = new LineSplitter((line) => this.emitFrame({ data: line, binary: false }));
  constructor(
    input: Readable,
    private readonly output: Writable,
    private readonly child?: ChildProcess,
    /** False when the output is this process's stdout, which others still write to. */
    private readonly ownsOutput = true,
  ) {
    super();
    input.on('data', (chunk: Buffer) => this.lines.push(chunk));
    input.on('end', () => {
      this.lines.end();
      // A child's transport closes when the child has exited, so its exit code is reported.
      if (!child) this.emitClose({ reason: 'end of input' });
    });
    input.on('error', (e) => this.emitClose({ error: e.message }));
    output.on('error', (e) => this.emitClose({ error: e.message }));
    child?.on('close', (code, signal) => this.emitClose({ code: code ?? undefined, reason: signal ?? 'exit' }));
    child?.on('error', (e) => this.emitClose({ error: e.message }));
  }
  /** Empty lines become frames too: for replays, which must answer line for line. */
  keepEmptyLines(): this {
    this.lines.keepEmpty = true;
    return this;
  }
  send(data: string | Buffer): void {
    if (this.closed || this.output.destroyed || this.output.writableEnded) return;
    this.output.write(typeof data === 'string' ? data + '\n' : Buffer.concat([data, Buffer.from('\n')]));
  }
  get buffered(): number {
    return this.output.writableLength;
  }
  cork(): void {
    this.output.cork();
  }
  uncork(): void {
    this.output.uncork();
  }
  close(): void {
    if (this.ownsOutput && !this.output.writableEnded) this.output.end();
    if (this.child && this.child.exitCode === null) {
      const c = this.child;
      setTimeout(() => c.exitCode === null && c.kill('SIGTERM'), 1000).unref();
    }
    if (!this.child) this.emitClose({ reason: 'closed' });
  }
}

/** Spawns a runtime that speaks NDJSON on its stdio; stderr passes through to ours. */
export function spawnStdio(command: string, args: string[], env?: NodeJS.ProcessEnv): StdioTransport {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'], env: env ?? process.env });
  return new StdioTransport(child.stdout!, child.stdin!, child);
}
