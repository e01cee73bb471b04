import { spawn } from 'node:child_process';
import { ToolError } from '../errors.js';

/**
 * The program under test, run as the client of a recorder or a replay: it finds them in its
 * environment (`ARCP_URL`, `ARCP_HTTP_URL`, and the SDKs' own base-URL variables when a route's
 * prefix names the API), shares this terminal, and its exit code is the run's.
 */
export interface ClientRun {
  /** Resolves with its exit code (128 + signal number when a signal ended it). */
  exited: Promise<number>;
  /** Ends it (SIGTERM) if it is still running. */
  stop(): void;
}

/** Base-URL variables the OpenAI and Anthropic SDKs read, set when a route prefix names the API. */
const SDK_ENV: [RegExp, string][] = [
  [/openai/i, 'OPENAI_BASE_URL'],
  [/anthropic|claude/i, 'ANTHROPIC_BASE_URL'],
];

export function clientEnv(addresses: { ws?: string; http?: string }, httpPrefixes: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  if (addresses.ws) env.ARCP_URL = addresses.ws;
  if (addresses.http) {
    env.ARCP_HTTP_URL = addresses.http;
    for (const p of httpPrefixes) for (const [re, name] of SDK_ENV) if (re.test(p)) env[name] ??= `${addresses.http}${p === '/' ? '' : p}`;
  }
  return env;
}

/** Starts `command` (argv words, or one string for a shell) with `env` added to ours. */
export function runClient(command: string[] | string, env: Record<string, string>): ClientRun {
  const shell = typeof command === 'string';
  const [file, ...args] = shell ? [command] : command;
  if (!file) throw new ToolError('E_USAGE', 'no command to run', 'e.g. --run "npm test", or -- npm test');
  const child = spawn(file, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env }, shell });
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', (e) => reject(new ToolError('E_USAGE', `cannot run ${file}: ${(e as NodeJS.ErrnoException).code ?? e.message}`, 'check the command and PATH')));
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? signalNumber(signal) : 0)));
  });
  return { exited, stop: () => void (child.exitCode === null && child.kill('SIGTERM')) };
}

const signalNumber = (s: NodeJS.Signals): number => ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 })[s as string] ?? 1;
