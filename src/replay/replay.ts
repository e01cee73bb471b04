import { bindError, ToolError } from '../errors.js';
import { TapeReader } from '../tape/reader.js';
import { parsePointer } from '../json/pointer.js';
import { driveReplay } from './driver.js';
import { parseFault } from './faults.js';
import { isHttpFault, parseHttpFault } from './http-faults.js';
import type { HttpServeOptions } from './http-player.js';
import { clientEnv, runClient } from '../runner/client-command.js';
import type { ReplayReport } from './report.js';
import type { ReplayProgress } from './script.js';
import { serveReplay } from './serve.js';
import type { VolatileRules } from './volatile.js';

export interface ReplayOptions {
  tape: string;
  listen?: { host?: string; port?: number };
  stdio?: boolean;
  http?: HttpServeOptions;
  /** With --listen or --http-port: the program under test, run as their client (`-- npm test`, or a shell line). */
  client?: string[] | string;
  target?: string;
  command?: string[];
  token?: string;
  volatile?: VolatileRules;
  keepGoing?: boolean;
  pace?: 'fast' | 'recorded';
  speed?: string;
  faults?: string[];
  timeoutSec?: number;
  /** Seconds to wait for a client to open each recorded connection, as the runtime. */
  connectTimeoutSec?: number;
  /** Filled in as the replay goes (frames played, of the tape's total), for a progress line. */
  progress?: ReplayProgress;
}

/**
 * `arcp replay`: picks the role from the options, runs until done, returns the report.
 * `interrupted` (SIGINT in the CLI) ends a serving replay early with what was played so far.
 */
export async function replay(o: ReplayOptions, onListening: (a: { ws?: string; http?: string }) => void = () => undefined, interrupted: Promise<void> = new Promise(() => undefined)): Promise<ReplayReport> {
  const asRuntime = Boolean(o.listen || o.stdio);
  const asClient = Boolean(o.target || o.command?.length);
  if (asRuntime && asClient) throw new ToolError('E_USAGE', 'replay plays one side: --listen/--stdio (as the runtime) or --target/-- command (as the client), not both', 'see arcp replay --help');
  if (o.listen && o.stdio) throw new ToolError('E_USAGE', '--listen and --stdio both serve the runtime side; pick one', 'see arcp replay --help');
  if (!asRuntime && !asClient && !o.http) throw new ToolError('E_USAGE', 'nothing to replay to', 'pass --listen, --stdio, --http-port N, --target ws://… or -- <runtime command>');
  if (asClient && o.http) throw new ToolError('E_USAGE', '--http-port serves recorded HTTP to a client; it does not go with --target', 'run a second arcp replay --http-port for the agent under test');
  for (const p of o.volatile?.pointers ?? []) {
    try {
      parsePointer(p);
    } catch (e) {
      throw new ToolError('E_USAGE', `--volatile: ${(e as Error).message}`, 'e.g. --volatile /payload/body/duration_ms');
    }
  }
  const speed = parseSpeed(o.speed ?? '1');
  const httpFaults = (o.faults ?? []).filter(isHttpFault).map(parseHttpFault);
  const faults = (o.faults ?? []).filter((f) => !isHttpFault(f)).map(parseFault);
  if (faults.length && !asRuntime) throw new ToolError('E_USAGE', '--fault drop/delay/duplicate apply when replaying as the runtime (--listen or --stdio)', 'see arcp replay --help');
  if (httpFaults.length && !o.http) throw new ToolError('E_USAGE', '--fault status/reset/slow/stall@ROUTE:N apply to the HTTP side (--http-port)', 'see arcp replay --help');
  if (o.client && (o.stdio || asClient)) throw new ToolError('E_USAGE', 'a command under test runs as the client of --listen or --http-port', 'drop --stdio / --target, or run the command yourself');
  const timeoutMs = (o.timeoutSec ?? 10) * 1000;
  if (o.progress) o.progress.total = frameCount(o.tape);
  if (asClient) return driveReplay({ tape: o.tape, target: o.target, command: o.command, token: o.token, volatile: o.volatile, timeoutMs, keepGoing: o.keepGoing, progress: o.progress });
  const serving = await serveReplay({
    tape: o.tape,
    listen: o.listen,
    stdio: o.stdio ? { input: process.stdin, output: process.stdout } : undefined,
    // A command under test decides when the run is over: serve until it exits.
    http: o.http && { ...o.http, faults: httpFaults, keepServing: o.client !== undefined || o.http.keepServing },
    volatile: o.volatile,
    pace: o.pace,
    speed,
    faults,
    timeoutMs,
    connectTimeoutMs: (o.connectTimeoutSec ?? 60) * 1000,
    keepGoing: o.keepGoing || o.client !== undefined,
    progress: o.progress,
  }).catch((e) => Promise.reject(bindError(e, (e as { port?: number }).port === o.http?.port && o.http ? { ...o.http, flag: '--http-port' } : { ...o.listen })));
  onListening(serving.addresses);
  if (o.client === undefined) return Promise.race([serving.done, interrupted.then(() => serving.stop())]);
  const run = runClient(o.client, clientEnv(serving.addresses, httpPrefixes(o.tape)));
  const exitCode = await Promise.race([run.exited, interrupted.then(() => (run.stop(), run.exited))]).catch(async (e) => {
    await serving.stop();
    throw e;
  });
  const report = await serving.stop();
  return { ...report, ok: report.ok && exitCode === 0, command: { argv: typeof o.client === 'string' ? [o.client] : o.client, exitCode } };
}

/** The route prefixes the tape's HTTP exchanges were recorded under. */
function httpPrefixes(path: string): string[] {
  const t = TapeReader.open(path);
  try {
    return [...new Set(t.channels().flatMap((c) => (c.kind === 'http' && typeof c.info.route === 'string' ? [c.info.route] : [])))];
  } finally {
    t.close();
  }
}

/** Speeds a timer can keep: from a hundredth to a thousand times the recorded pace. */
const SPEED = { min: 0.01, max: 1000 };

function parseSpeed(text: string): number {
  const speed = Number(text);
  if (speed === Infinity) throw new ToolError('E_USAGE', `--speed ${text}: for no waits at all, use --pace fast`, `--speed goes from ${SPEED.min} to ${SPEED.max}`);
  if (!Number.isFinite(speed) || speed < SPEED.min || speed > SPEED.max) throw new ToolError('E_USAGE', `--speed "${text}" is not a number from ${SPEED.min} to ${SPEED.max}`, 'e.g. --speed 2 (twice as fast as recorded), --speed 0.5 (half)');
  return speed;
}

function frameCount(path: string): number {
  const t = TapeReader.open(path);
  try {
    return t.frameCount();
  } finally {
    t.close();
  }
}
