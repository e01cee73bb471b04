import { setMaxListeners } from 'node:events';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ToolError } from '../../errors.js';
import type { WireCheck } from '../check.js';
import { ExchangeRecorder } from '../exchange.js';
import type { ConformReport } from '../report.js';
import { finish, selectChecks, type RawResult } from '../results.js';
import { pool, tapeDir, tapeName } from '../runner.js';
import { judgeWire } from '../server/run.js';
import { Judge } from '../verdict.js';
import { WIRE_CHECKS } from '../wire/index.js';
import { CLIENT_CHECKS, type Check, type ScenarioRun } from './checks.js';
import { SCENARIOS, type Scenario } from './scenarios.js';
import { Stage } from './stage.js';

export interface ClientSuiteOptions {
  /** The client to spawn per scenario; without it, `listen` must be set. */
  command?: string[];
  /** Wait for a client started by hand (one scenario at a time) instead of spawning one. */
  listen?: boolean;
  /** The bearer token the client is given (ARCP_TOKEN). */
  token?: string;
  only?: string[];
  skip?: string[];
  jobs?: number;
  /** Per scenario, seconds (default 60: a scenario includes starting the client). */
  timeoutSec?: number;
  strict?: boolean;
  expectedFailures?: string[];
  tapes?: string | false;
  /** Write each check's tape's execution records beside it and list them in the report. */
  records?: boolean;
  commandLine?: string[];
  /** With `listen`: where to connect and which scenario to play, before each scenario. */
  onListening?: (o: { url: string; token: string; scenario: string; env: Record<string, string> }) => void;
  onCheck?: (id: string, status: string) => void;
}

export const clientChecks = (): (Check | WireCheck)[] => [...CLIENT_CHECKS, ...WIRE_CHECKS.filter((w) => !w.tapeOnly && (w.live ?? w.subjects).includes('client'))];

/** Starts the client for one scenario: how it exits, the process, and the tail of its output. */
function start(command: string[], env: Record<string, string>): { exited: Promise<{ code: number | null; signal: string | null }>; child: ChildProcess; tail: () => string } {
  const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let tail = '';
  const keep = (d: Buffer) => (tail = (tail + d.toString('utf8')).slice(-2000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.once('error', (e) => {
      tail += `\n${e.message}`;
      resolve({ code: 127, signal: null });
    });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { exited, child, tail: () => tail.trim().split('\n').slice(-3).join(' | ') };
}

async function play(s: Scenario, o: ClientSuiteOptions, dir: string | undefined, timeoutMs: number): Promise<ScenarioRun> {
  const token = o.token ?? `conform-${Math.random().toString(36).slice(2, 10)}`;
  const recorder = await ExchangeRecorder.create({ name: s.name, path: dir ? join(dir, tapeName(`scenario/${s.name}`)) : undefined, role: 'runtime', commandLine: [...(o.commandLine ?? ['arcp', 'conform', 'client']), '--only', `scenario ${s.name}`] });
  const abort = new AbortController();
  setMaxListeners(200, abort.signal);
  const stage = new Stage(recorder, { token, startMs: timeoutMs, ...s.stage }, abort.signal);
  const url = await stage.listen();
  const env = { ARCP_URL: url, ARCP_TOKEN: token, ARCP_CONFORMANCE_SCENARIO: s.name };
  const run: ScenarioRun = { scenario: s.name, exchange: recorder.exchange, facts: stage.facts, timedOut: false, stderr: '' };
  const proc = o.listen ? undefined : start(o.command!, env);
  o.onListening?.({ url, token, scenario: s.name, env });
  const timer = setTimeout(() => {
    run.timedOut = true;
    abort.abort();
  }, timeoutMs);
  const script = s.play(stage, Math.min(10_000, timeoutMs)).then(
    () => undefined,
    (e: Error) => {
      if (!abort.signal.aborted) run.error = `the scenario stopped: ${e.message}`;
    },
  );
  if (proc) {
    const which = await Promise.race([script.then(() => 'script'), proc.exited.then(() => 'exit')]);
    if (which === 'exit') {
      // Let frames in flight arrive, then stop waiting for a client that is gone.
      await Promise.race([script, new Promise((r) => setTimeout(r, 300))]);
      abort.abort();
      await script;
    }
    const exit = await Promise.race([proc.exited, new Promise<undefined>((r) => setTimeout(r, run.timedOut ? 0 : 3000))]);
    if (!exit) {
      proc.child.kill('SIGKILL');
      if (!run.timedOut) run.error = run.error ?? 'the client did not exit after the scenario ended';
    }
    run.exit = exit ?? (await proc.exited);
    run.stderr = proc.tail();
  } else await script;
  clearTimeout(timer);
  run.session = stage.session;
  await stage.close();
  run.tape = await recorder.close();
  return run;
}

/** `arcp conform client`: the suite is the runtime; the client runs each scenario. */
export async function runClientSuite(o: ClientSuiteOptions): Promise<ConformReport> {
  if (!o.listen && !o.command?.length) throw new ToolError('E_USAGE', 'no client to test', 'pass -- <command that runs your client>, or --listen to connect one by hand');
  const startedAt = new Date();
  const selected = selectChecks(clientChecks(), o.only, o.skip);
  const dir = o.tapes === false ? undefined : tapeDir(o.tapes);
  const timeoutMs = (o.timeoutSec ?? 60) * 1000;
  const checks = selected.filter((c): c is Check => c.kind === 'client');
  // Wire checks judge whatever traffic there is, so with any of them every scenario runs.
  const wanted = new Set(checks.flatMap((c) => c.scenarios));
  const anyWire = selected.some((c) => c.kind === 'wire');
  const scenarios = SCENARIOS.filter((s) => anyWire || wanted.has(s.name));
  const runs: ScenarioRun[] = [];
  await pool(scenarios, o.listen ? 1 : (o.jobs ?? 4), async (s) => {
    runs.push(await play(s, o, dir, timeoutMs));
    o.onCheck?.(`scenario ${s.name}`, 'done');
  });
  const results: RawResult[] = checks.map((c) => {
    const t0 = performance.now();
    const j = new Judge();
    const mine = runs.filter((r) => c.scenarios.includes(r.scenario));
    c.judge(mine, j);
    const tape = mine.find((r) => r.scenario === c.scenarios[c.scenarios.length - 1])?.tape;
    return { check: c, findings: j.findings, tape, durationMs: performance.now() - t0 };
  });
  results.push(...judgeWire(selected.filter((c): c is WireCheck => c.kind === 'wire'), runs.map((r) => r.exchange), 'client', 'client'));
  const byId = new Map(results.map((r) => [r.check.id, r]));
  return finish(
    selected.map((c) => byId.get(c.id)!),
    { mode: 'client', target: o.listen ? 'a client connected by hand (--listen)' : o.command!.join(' '), startedAt, strict: o.strict, expectedFailures: o.expectedFailures, tapes: dir, records: o.records },
  );
}
