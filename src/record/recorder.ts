import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { bindError, ToolError } from '../errors.js';
import { LLM_URL_ENV } from '../llm/dialects.js';
import type { RedactionRules } from '../tape/format.js';
import { defaultRules } from '../tape/redact.js';
import { parsePointer } from '../json/pointer.js';
import { lockPath } from '../tape/lock.js';
import { TapeWriter, type TapeSummary, type WriteLoss } from '../tape/writer.js';
import type { RecordChannel } from './channel.js';
import { startHttpProxy, type HttpRoute } from './http-proxy.js';
import { wrapStdio, type StdioChannel } from './stdio-wrap.js';
import { startWsProxy } from './ws-proxy.js';

export interface RecordOptions {
  tape?: string;
  force?: boolean;
  /** WebSocket proxy to an upstream runtime. */
  ws?: { upstream: string; host?: string; port?: number; upstreamTimeoutMs?: number };
  /** HTTP reverse proxy for LLM and tool calls. */
  http?: { routes: HttpRoute[]; host?: string; port?: number };
  /** A runtime speaking NDJSON on stdio, wrapped. */
  stdio?: { command: string[]; input?: NodeJS.ReadableStream; output?: NodeJS.WritableStream };
  redaction?: RedactionRules;
  commandLine?: string[];
  flushMs?: number;
  /** Memory the tape writer may fall behind by before sources pause; 64 MiB by default. */
  maxBacklogBytes?: number;
  /** Non-fatal trouble while recording (the tape writer failing): forwarding goes on. */
  onWarning?: (line: string) => void;
}

export interface RecordStats {
  /** Live WebSocket and stdio connections. */
  connections: number;
  /** Everything in progress: live connections and HTTP exchanges not yet over. */
  active: number;
  /** HTTP exchanges seen so far, when an HTTP route is recorded. */
  exchanges?: number;
  frames: number;
  bytes: number;
  /** The tape writer is behind: sources are paused until it catches up. */
  tapeBehind: boolean;
  /** How many times that happened. */
  tapePauses: number;
  /** Frames the disk refused so far. */
  lost: number;
}

export interface RecordSummary extends TapeSummary {
  /** The wrapped child's exit code (stdio mode). */
  exitCode?: number;
}

export interface Recording {
  tape: string;
  /** Where clients connect, by mode. */
  addresses: { ws?: string; http?: string; stdio?: string };
  stats(): RecordStats;
  /** Resolves when a wrapped child exits; never for proxies alone. */
  done: Promise<void>;
  stop(): Promise<RecordSummary>;
}

/** Environment variable a wrapped child finds the HTTP recorder under. */
export const HTTP_URL_ENV = 'ARCP_RECORD_HTTP_URL';

/**
 * `tapes/<UTC time to the second>.tape`; a second recording started in the same second (CI
 * runs them in parallel) gets `-2`, `-3`, … rather than being refused for a tape it never named.
 */
export function defaultTapePath(now = new Date(), taken = (p: string) => existsSync(p) || existsSync(lockPath(p))): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  for (let n = 1; ; n++) {
    const path = join('tapes', `${stamp}${n > 1 ? `-${n}` : ''}.tape`);
    if (!taken(path)) return path;
  }
}

/** Validates user redaction rules and adds the defaults (unless disabled). */
export function redactionRules(o: { redact?: boolean; pointers?: string[]; headers?: string[]; regexes?: string[]; query?: string[] }): RedactionRules {
  for (const p of o.pointers ?? []) {
    try {
      parsePointer(p);
    } catch (e) {
      throw new ToolError('E_USAGE', `--redact-pointer: ${(e as Error).message}`, 'e.g. --redact-pointer /payload/input/api_key');
    }
  }
  for (const r of o.regexes ?? []) {
    try {
      new RegExp(r, 'g');
    } catch (e) {
      throw new ToolError('E_USAGE', `--redact-regex "${r}" is not a valid regular expression: ${(e as Error).message}`, "e.g. --redact-regex 'sk-[A-Za-z0-9]{20,}'");
    }
  }
  return defaultRules({ pointers: o.pointers, headers: o.headers, regexes: o.regexes, query: o.query }, o.redact !== false);
}

/** Starts recording into one tape through every mode asked for. */
export async function record(o: RecordOptions): Promise<Recording> {
  if (!o.ws && !o.http && !o.stdio) throw new ToolError('E_USAGE', 'nothing to record', 'pass --upstream ws://…, --http PREFIX=URL, or -- <runtime command>');
  let tape = o.tape ?? defaultTapePath();
  // Only the default folder is made; a --tape in a folder that does not exist is refused (a typo must not grow a tree).
  if (!o.tape) mkdirSync(dirname(tape), { recursive: true });
  let writer: TapeWriter;
  for (let attempt = 1; ; attempt++) {
    try {
      writer = await TapeWriter.create({ path: tape, force: o.force, commandLine: o.commandLine ?? [], redaction: o.redaction ?? defaultRules(), flushMs: o.flushMs, maxBacklogBytes: o.maxBacklogBytes });
      break;
    } catch (e) {
      // Another recorder took the default name between the look and the lock: the next name.
      if (o.tape || attempt >= 5 || !(e instanceof ToolError) || e.code !== 'E_USAGE') throw e;
      tape = defaultTapePath();
    }
  }
  writer.on('error', (e: Error) => o.onWarning?.(`tape ${tape}: ${e.message}; traffic still flows, frames from here on may be missing`));
  writer.on('lost', (l: WriteLoss) => {
    if (l.fresh) o.onWarning?.(`tape ${tape}: ${l.reason}: frames are not being written (traffic still flows); the tape records the gap`);
  });
  const channels: RecordChannel[] = [];
  const addresses: Recording['addresses'] = {};
  let stdio: StdioChannel | undefined;
  try {
    if (o.http) {
      const c = await startHttpProxy(writer, { ...o.http, onWarning: o.onWarning }).catch((e) => Promise.reject(bindError(e, { host: o.http!.host, port: o.http!.port, flag: '--http-port' })));
      channels.push(c);
      addresses.http = c.address;
    }
    if (o.ws) {
      const c = await startWsProxy(writer, { ...o.ws, onWarning: o.onWarning }).catch((e) => Promise.reject(bindError(e, { host: o.ws!.host, port: o.ws!.port })));
      channels.push(c);
      addresses.ws = c.address;
    }
    if (o.stdio) {
      const env = addresses.http ? { ...process.env, [HTTP_URL_ENV]: addresses.http, ...llmUrlEnv(addresses.http, o.http!.routes) } : process.env;
      stdio = await wrapStdio(writer, { command: o.stdio.command, input: o.stdio.input as never, output: o.stdio.output as never, env });
      channels.push(stdio);
      addresses.stdio = stdio.address;
    }
  } catch (e) {
    await Promise.all(channels.map((c) => c.close()));
    await writer.close().catch(() => undefined);
    // Nothing was recorded: the tape this start created goes with it.
    for (const suffix of ['', '-wal', '-shm']) rmSync(tape + suffix, { force: true });
    throw e;
  }
  let stopping: Promise<RecordSummary> | undefined;
  return {
    tape,
    addresses,
    stats: () => ({ ...connectionCounts(channels), frames: writer.frames, bytes: writer.bytes, tapeBehind: writer.congested, tapePauses: writer.congestions, lost: writer.lostFrames }),
    done: stdio ? stdio.done : new Promise<void>(() => undefined),
    stop: () =>
      (stopping ??= (async () => {
        await Promise.all(channels.map((c) => c.close()));
        const summary = await writer.close();
        return { ...summary, exitCode: stdio?.exitCode };
      })()),
  };
}

/** With one route, the wrapped runtime's LLM URL is the recorder's, so its calls are recorded without configuring it. */
function llmUrlEnv(http: string, routes: HttpRoute[]): Record<string, string> {
  if (routes.length !== 1) return {};
  return { [LLM_URL_ENV]: routes[0].prefix === '/' ? http : http + routes[0].prefix };
}

/** What the progress line counts: live connections, and HTTP exchanges so far (an exchange is over too soon to be seen live). */
function connectionCounts(channels: RecordChannel[]): Pick<RecordStats, 'connections' | 'active' | 'exchanges'> {
  const http = channels.filter((c) => c.mode === 'http');
  const connections = channels.reduce((n, c) => n + (c.mode === 'http' ? 0 : c.active), 0);
  const active = channels.reduce((n, c) => n + c.active, 0);
  return http.length ? { connections, active, exchanges: http.reduce((n, c) => n + c.seen, 0) } : { connections, active };
}
