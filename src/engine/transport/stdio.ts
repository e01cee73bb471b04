import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { BaseTransport } from './transport.js';

const NL = 0x0a;

/** NDJSON over a pair of streams (§4.2): one envelope per line, the line's bytes kept exact. */
export class StdioTransport extends BaseTransport {
  readonly kind = 'stdio' as const;
  private carry: Buffer[] = [];
  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    private readonly child?: ChildProcess,
    /** False when the output is this process's stdout, which others still write to. */
    private readonly ownsOutput = true,
  ) {
    super();
    input.on('data', (chunk: Buffer) => this.ingest(chunk));
    input.on('end', () => {
      this.flushCarry();
      // A child's transport closes when the child has exited, so its exit code is reported.
      if (!child) this.emitClose({ reason: 'end of input' });
    });
    input.on('error', (e) => this.emitClose({ error: e.message }));
    output.on('error', (e) => this.emitClose({ error: e.message }));
    child?.on('close', (code, signal) => this.emitClose({ code: code ?? undefined, reason: signal ?? 'exit' }));
    child?.on('error', (e) => this.emitClose({ error: e.message }));
  }
  private ingest(chunk: Buffer): void {
    let start = 0;
    let nl = chunk.indexOf(NL, start);
    while (nl >= 0) {
      const piece = chunk.subarray(start, nl);
      const line = this.carry.length ? Buffer.concat([...this.carry, piece]) : Buffer.from(piece);
      this.carry = [];
      if (line.length > 0) this.emitFrame({ data: line, binary: false });
      start = nl + 1;
      nl = chunk.indexOf(NL, start);
    }
    if (start < chunk.length) this.carry.push(chunk.subarray(start));
  }
  private flushCarry(): void {
    if (!this.carry.length) return;
    const line = Buffer.concat(this.carry);
    this.carry = [];
    if (line.length) this.emitFrame({ data: line, binary: false });
  }
  send(data: string | Buffer): void {
    if (this.closed || this.output.destroyed || this.output.writableEnded) return;
    this.output.write(typeof data === 'string' ? data + '\n' : Buffer.concat([data, Buffer.from('\n')]));
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
