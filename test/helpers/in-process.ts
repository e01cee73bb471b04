import { join } from 'node:path';
import { Config } from '@oclif/core';
import { onTestFinished, vi } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
let loaded: Promise<Config> | undefined;

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Running {
  /** What it wrote so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when the command returns (or fails), with its exit code and everything it wrote. */
  done: Promise<Run>;
  /** Sends it the SIGTERM its handlers wait for (only to this command's handlers), then awaits `done`. */
  stop(): Promise<Run>;
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Starts `arcp ARGS` in this process (the built CLI, through oclif's own parse): stdout and
 * stderr are captured until it returns. A signal handler it leaves is removed when it ends,
 * so nothing of one run waits for the next run's stop. One run at a time.
 */
export function start(args: string[]): Running {
  const run = launch(args);
  onTestFinished(async () => void (await run.stop()));
  return run;
}

/** Runs `arcp ARGS` in this process to completion (in a hook too). */
export const inProcess = (args: string[]): Promise<Run> => launch(args).done;

function launch(args: string[]): Running {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c) => (out.push(String(c)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c) => (err.push(String(c)), true));
  const before = new Map(SIGNALS.map((s) => [s, new Set(process.rawListeners(s))]));
  const added = (s: (typeof SIGNALS)[number]) => process.rawListeners(s).filter((l) => !before.get(s)!.has(l)) as ((sig: string) => void)[];
  const done = (async () => {
    let code = 0;
    try {
      const config = await (loaded ??= Config.load(ROOT));
      const [a, b, ...rest] = args;
      const topic = b !== undefined && config.findCommand(`${a}:${b}`);
      await (topic ? config.runCommand(`${a}:${b}`, rest) : config.runCommand(a, args.slice(1)));
    } catch (x) {
      code = (x as { oclif?: { exit?: number } }).oclif?.exit ?? 99;
      if (code === 99) err.push(String((x as Error).stack ?? x));
    } finally {
      o.mockRestore();
      e.mockRestore();
      for (const s of SIGNALS) for (const l of added(s)) process.removeListener(s, l);
    }
    return { code, stdout: out.join(''), stderr: err.join('') };
  })();
  const stop = () => {
    for (const l of added('SIGTERM')) l('SIGTERM');
    return done;
  };
  return { stdout: () => out.join(''), stderr: () => err.join(''), done, stop };
}
