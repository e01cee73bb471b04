import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { LineSplitter } from '../engine/transport/lines.js';
import { ToolError } from '../errors.js';
import type { TapeWriter } from '../tape/writer.js';
import { Holds, type RecordChannel } from './channel.js';

export interface StdioWrapOptions {
  command: string[];
  /** The client's side: this process's stdin/stdout by default. */
  input?: Readable;
  output?: Writable;
  env?: NodeJS.ProcessEnv;
}

export interface StdioChannel extends RecordChannel {
  /** The child's exit code (128 + signal number when killed), once `done` resolved. */
  exitCode?: number;
  /** Sends a signal to the child (the recorder forwards SIGINT/SIGTERM). */
  kill(signal: NodeJS.Signals): void;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
/** How long a stopping recorder waits for the wrapped runtime to exit on SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 2000;

/**
 * Wraps a runtime that speaks NDJSON on stdio: the client spawns `arcp record … -- <runtime>`
 * in place of the runtime. stdin and stdout pass through chunk for chunk; the tape gets one
 * `stdio.line` frame per line; stderr is inherited; the child's exit code is kept.
 */
export async function wrapStdio(writer: TapeWriter, o: StdioWrapOptions): Promise<StdioChannel> {
  const input = o.input ?? process.stdin;
  const output = o.output ?? process.stdout;
  const [cmd, ...args] = o.command;
  const ch = writer.channel('stdio', `stdio ${o.command.join(' ')}`.slice(0, 200), { command: o.command });
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'], env: o.env ?? process.env });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (e) => {
      writer.event(ch, 'meta', 'transport.error', { error: e.message });
      reject(new ToolError('E_USAGE', `cannot start ${cmd}: ${(e as NodeJS.ErrnoException).code ?? e.message}`, 'check the command after --; it must be on PATH or a path to an executable'));
    });
  });
  writer.event(ch, 'meta', 'transport.open', { pid: child.pid });
  const up = new LineSplitter((line) => writer.frame(ch, 'c2s', 'stdio.line', line), true);
  const down = new LineSplitter((line) => writer.frame(ch, 's2c', 'stdio.line', line), true);

  const inputHolds = new Holds(() => input.pause(), () => input.resume());
  const outputHolds = new Holds(() => child.stdout.pause(), () => child.stdout.resume());
  const onInput = (chunk: Buffer) => {
    if (!child.stdin.write(chunk)) inputHolds.hold((release) => child.stdin.once('drain', release));
    up.push(chunk);
    if (writer.congested) inputHolds.hold((release) => writer.afterDrain(release));
  };
  input.on('data', onInput);
  input.once('end', () => {
    up.end();
    // Who ended first is what a replay reproduces: the client's EOF, or the runtime exiting on its own.
    writer.event(ch, 'c2s', 'transport.close', { eof: true });
    child.stdin.end();
  });
  child.stdin.on('error', () => undefined); // the child closed its stdin; its exit is what we report
  child.stdout.on('data', (chunk: Buffer) => {
    if (!output.write(chunk)) outputHolds.hold((release) => output.once('drain', release));
    down.push(chunk);
    if (writer.congested) outputHolds.hold((release) => writer.afterDrain(release));
  });
  child.stdout.once('end', () => {
    down.end();
    writer.event(ch, 's2c', 'transport.close', { eof: true });
  });

  const channel: StdioChannel = {
    mode: 'stdio',
    address: o.command.join(' '),
    get active() {
      return child.exitCode === null && child.signalCode === null ? 1 : 0;
    },
    seen: 1,
    done: new Promise<void>((resolve) => {
      child.once('close', (code, signal) => {
        input.off('data', onInput);
        input.pause();
        channel.exitCode = code ?? 128 + (SIGNALS[signal ?? ''] ?? 0);
        writer.event(ch, 'meta', 'transport.close', { code: code ?? undefined, reason: signal ?? 'exit' });
        resolve();
      });
    }),
    kill: (signal) => {
      if (child.exitCode === null) child.kill(signal);
    },
    close: async () => {
      channel.kill('SIGTERM');
      // A runtime that ignores SIGTERM must not keep the recorder from stopping.
      const late = setTimeout(() => channel.kill('SIGKILL'), STOP_GRACE_MS);
      await channel.done;
      clearTimeout(late);
    },
  };
  return channel;
}
