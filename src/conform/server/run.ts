import { setMaxListeners } from 'node:events';
import { join } from 'node:path';
import { ToolError } from '../../errors.js';
import type { Needs, Side, WireCheck } from '../check.js';
import { ExchangeRecorder, type Exchange } from '../exchange.js';
import { Aborted, WaitTimeout } from '../peer.js';
import type { ConformReport } from '../report.js';
import { finish, selectChecks, type RawResult } from '../results.js';
import { pool, tapeDir, tapeName } from '../runner.js';
import { Judge, Skip } from '../verdict.js';
import { WIRE_CHECKS } from '../wire/index.js';
import { SERVER_CHECKS } from './checks/index.js';
import type { Check } from './checks/util.js';
import { ServerContext, type Probe, type ServerRunOptions } from './context.js';
import { ALL_FEATURES, SuiteSession } from './session.js';
import type { ServerTarget } from './target.js';

export interface ServerSuiteOptions {
  target: ServerTarget;
  token: string;
  token2?: string;
  observerToken?: string;
  agents?: Record<string, string>;
  only?: string[];
  skip?: string[];
  /** Checks run at once. */
  jobs?: number;
  /** Per-check limit, seconds. */
  timeoutSec?: number;
  strict?: boolean;
  expectedFailures?: string[];
  /** Folder for the checks' tapes; undefined: a fresh temp folder; false: no tapes (tests of verdicts only). */
  tapes?: string | false;
  /** Write each check's tape's execution records beside it and list them in the report. */
  records?: boolean;
  commandLine?: string[];
  /** Each check as it finishes (for progress on stderr). */
  onCheck?: (id: string, status: string) => void;
}

/** Every check of the server suite, wire checks included, in listing order. */
export const serverChecks = (): (Check | WireCheck)[] => [...SERVER_CHECKS, ...WIRE_CHECKS.filter((w) => !w.tapeOnly && (w.live ?? w.subjects).includes('runtime'))];

function unmet(n: Needs | undefined, probe: Probe, o: ServerSuiteOptions, target: ServerTarget, agents: Record<string, string>): string | undefined {
  if (!n) return undefined;
  for (const f of n.features ?? []) if (!probe.features.includes(f)) return `feature \`${f}\` not negotiated (the runtime's welcome does not list it)`;
  if (probe.agents) for (const a of n.agents ?? []) if (!probe.agents.some((x) => x.name === (agents[a] ?? a))) return `agent \`${agents[a] ?? a}\` not hosted${agents[a] ? '' : ' (map it with --agents)'}`;
  if (n.secondPrincipal && !o.token2) return 'needs a second principal: pass --token2';
  if (n.observer && !o.observerToken) return "needs a principal the runtime lets observe --token's jobs: pass --observer-token";
  if (n.reconnect && !target.reconnectable) return 'needs a second connection to the same runtime; over stdio each connection is a new process';
  return undefined;
}

/** One hello per token: what the runtime supports, and that the tokens are good (else exit 2). */
async function probeRuntime(opts: ServerRunOptions, o: ServerSuiteOptions, recorder: ExchangeRecorder): Promise<Probe> {
  const signal = new AbortController().signal;
  const placeholder: Probe = { welcome: { type: 'session.welcome', payload: {} }, features: [] };
  const ctx = new ServerContext(opts, placeholder, recorder, signal);
  try {
    const hello = async (token: string, flag: string) => {
      const s = new SuiteSession(ctx, token, { features: ALL_FEATURES, label: flag });
      let peer;
      try {
        peer = await ctx.open(flag);
      } catch (e) {
        throw new ToolError('E_CONNECT', `cannot reach the runtime at ${opts.target.describe}: ${(e as Error).message}`, opts.target.kind === 'ws' ? 'is it running? start one with `arcp serve`' : 'check the command after --');
      }
      s.adopt(peer);
      let r;
      try {
        r = await ctx.hello(peer, s);
      } catch (e) {
        throw new ToolError('E_CONNECT', `the runtime at ${opts.target.describe} did not answer a session.hello: ${(e as Error).message}`, 'is it an ARCP runtime?');
      }
      if (r.msg.type !== 'session.welcome') throw new ToolError('E_INPUT', `the runtime refused --${flag}: ${r.msg.payload.code}: ${r.msg.payload.message}`, `pass a bearer token the runtime maps to a principal (--${flag})`);
      return r.msg;
    };
    const w = await hello(o.token, 'token');
    if (o.token2) await hello(o.token2, 'token2');
    if (o.observerToken) await hello(o.observerToken, 'observer-token');
    const caps = w.payload.capabilities ?? {};
    const agents = Array.isArray(caps.agents) ? caps.agents.map((a: unknown) => (typeof a === 'string' ? { name: a, versions: [] } : a)) : undefined;
    return { welcome: w, features: Array.isArray(caps.features) ? caps.features : [], agents, heartbeatSec: w.payload.heartbeat_interval_sec, resumeWindowSec: w.payload.resume_window_sec };
  } finally {
    ctx.cleanup();
  }
}

async function runOne(c: Check, opts: ServerRunOptions, probe: Probe, dir: string | undefined, timeoutMs: number, commandLine: string[]): Promise<{ result: RawResult; exchange: Exchange }> {
  const recorder = await ExchangeRecorder.create({ name: c.id, path: dir ? join(dir, tapeName(c.id)) : undefined, role: 'client', commandLine: [...commandLine, '--only', c.id] });
  const abort = new AbortController();
  setMaxListeners(200, abort.signal);
  const t0 = performance.now();
  const ctx = new ServerContext(opts, probe, recorder, abort.signal, t0 + timeoutMs);
  let skipped: string | undefined;
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    await c.run(ctx);
  } catch (e) {
    if (e instanceof Skip) skipped = e.reason;
    else if (e instanceof Aborted || abort.signal.aborted) ctx.judge.violation(c.requirements[0], `the check did not finish within --timeout ${Math.round(timeoutMs / 1000)} s`);
    else if (e instanceof WaitTimeout) ctx.judge.violation(c.requirements[0], `the runtime sent ${e.message.replace(/^no /, 'no ')}`);
    else ctx.judge.violation(c.requirements[0], `unexpected answer from the runtime: ${(e as Error).message}`);
  } finally {
    clearTimeout(timer);
    ctx.cleanup();
  }
  // Let the close handshakes reach the tape (not bound to the check's signal, which may have fired).
  await Promise.all(ctx.peers.map((p) => Promise.race([p.closed, new Promise((r) => setTimeout(r, 1000))])));
  const tape = await recorder.close();
  return { result: { check: c, findings: ctx.judge.findings, skipped, tape, durationMs: performance.now() - t0 }, exchange: recorder.exchange };
}

/** Judges the wire checks over every exchange of the run. */
export function judgeWire(checks: WireCheck[], exchanges: Exchange[], subject: Side, mode: 'server' | 'client'): RawResult[] {
  return checks.map((w) => {
    const t0 = performance.now();
    const j = new Judge();
    w.judge(exchanges, j, { subjects: new Set([subject]), mode });
    return { check: w, findings: j.findings, durationMs: performance.now() - t0 };
  });
}

/** `arcp conform server`: the suite is the client; every check against the runtime under test. */
export async function runServerSuite(o: ServerSuiteOptions): Promise<ConformReport> {
  const startedAt = new Date();
  const selected = selectChecks(serverChecks(), o.only, o.skip);
  const dir = o.tapes === false ? undefined : tapeDir(o.tapes);
  const agents = o.agents ?? {};
  const timeoutMs = (o.timeoutSec ?? 30) * 1000;
  const opts: ServerRunOptions = { target: o.target, token: o.token, token2: o.token2, observerToken: o.observerToken, agents, waitMs: Math.min(5000, timeoutMs / 2) };
  const commandLine = o.commandLine ?? ['arcp', 'conform', 'server', o.target.describe];
  const probeRec = await ExchangeRecorder.create({ name: '_probe', path: dir ? join(dir, tapeName('_probe')) : undefined, role: 'client', commandLine });
  let probe: Probe;
  try {
    probe = await probeRuntime(opts, o, probeRec);
  } finally {
    await probeRec.close();
  }
  const server = selected.filter((c): c is Check => c.kind === 'server');
  const wire = selected.filter((c): c is WireCheck => c.kind === 'wire');
  const results = new Map<string, RawResult>();
  const exchanges: Exchange[] = [probeRec.exchange];
  const runnable: Check[] = [];
  for (const c of server) {
    const why = unmet(c.needs, probe, o, o.target, agents);
    const est = c.estimateMs?.(probe) ?? 0;
    if (why) results.set(c.id, { check: c, findings: [], skipped: why, durationMs: 0 });
    else if (est > timeoutMs) results.set(c.id, { check: c, findings: [], skipped: `needs about ${Math.ceil(est / 1000)} s with this runtime's timings, more than --timeout ${timeoutMs / 1000} s (raise --timeout)`, durationMs: 0 });
    else runnable.push(c);
  }
  for (const r of results.values()) o.onCheck?.(r.check.id, 'skipped');
  // Longest first, so the slow ones do not start last.
  runnable.sort((a, b) => (b.estimateMs?.(probe) ?? 0) - (a.estimateMs?.(probe) ?? 0));
  await pool(runnable, o.jobs ?? 6, async (c) => {
    const { result, exchange } = await runOne(c, opts, probe, dir, timeoutMs, commandLine);
    results.set(c.id, result);
    exchanges.push(exchange);
    o.onCheck?.(c.id, result.skipped ? 'skipped' : 'done');
  });
  for (const r of judgeWire(wire, exchanges, 'runtime', 'server')) results.set(r.check.id, r);
  return finish(
    selected.map((c) => results.get(c.id)!),
    { mode: 'server', target: o.target.describe, startedAt, strict: o.strict, expectedFailures: o.expectedFailures, tapes: dir, records: o.records },
  );
}
