import { rmSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { StdioTransport } from '../engine/transport/stdio.js';
import type { Transport } from '../engine/transport/transport.js';
import { connectWebSocket } from '../engine/transport/websocket.js';
import { bindError, ToolError } from '../errors.js';
import { dialectForPath, LLM_URL_ENV } from '../llm/dialects.js';
import type { RecordChannel } from '../record/channel.js';
import { startHttpProxy } from '../record/http-proxy.js';
import { wrapStdio, type StdioChannel } from '../record/stdio-wrap.js';
import { startWsProxy } from '../record/ws-proxy.js';
import { driveUntil, type Handover } from '../replay/driver.js';
import type { Divergence, ReplayReport } from '../replay/report.js';
import type { ReplayProgress } from '../replay/script.js';
import { Volatility, type VolatileRules } from '../replay/volatile.js';
import type { ChannelRow, Lineage, RedactionRules } from '../tape/format.js';
import { TapeReader } from '../tape/reader.js';
import { TapeWriter, type TapeSummary } from '../tape/writer.js';
import type { ForkPlan } from './fork.js';
import { forkFront, type FrontCounts } from './front.js';
import { isLlmExchange, tapeSteps } from './steps.js';
import { scrubbed } from './redaction.js';
import { LiveJobs, playTail } from './tail.js';

export interface ContinueOptions {
  /** The runtime to drive: a command speaking stdio (spawned per recorded connection)… */
  command?: string[];
  /** …or a WebSocket URL (its LLM URL must point at the fork's, printed through onLlmUrl). */
  target?: string;
  token?: string;
  /** Where LLM calls after the fork point go… */
  llmUpstream?: string;
  /** …or a tape whose recorded answers they get. */
  then?: string;
  llmHost?: string;
  llmPort?: number;
  pace?: 'recorded' | 'fast';
  timeoutMs?: number;
  volatile?: VolatileRules;
  /** The URL the runtime must call its LLM at (for `--target` runtimes, which were started before). */
  onLlmUrl?: (url: string) => void;
  /** Filled in as the prefix is driven (frames played, of the parent's), for a progress line. */
  progress?: ReplayProgress;
}

export interface ContinueReport {
  /** True when the run matched the parent up to the fork point and the child was written. */
  ok: boolean;
  summary: TapeSummary;
  /** The replay of the parent's client side up to the fork point. */
  prefix: ReplayReport;
  /** An LLM call before the fork point that the parent does not have. */
  httpDivergence?: Divergence;
  llm: FrontCounts;
  /** The child's jobs as they ended. */
  jobs: { n: number; id: string; status: string }[];
  unfinished?: string;
  problems: string[];
  notes: string[];
}

/** The base path the parent's runtime called its LLM under (`/llm` for `/llm/chat/completions`), from its first LLM exchange. */
function llmBase(plan: ForkPlan): string {
  const t = tapeSteps(plan.parent);
  const e = t.index.exchanges.find(isLlmExchange);
  if (!e) return '';
  const path = e.path.split('?')[0];
  return path.slice(0, path.length - dialectForPath(path)!.endpoint.length).replace(/\/+$/, '');
}

function arcpChannels(path: string): ChannelRow[] {
  const r = TapeReader.open(path);
  try {
    return r.channels().filter((c) => c.kind !== 'http');
  } finally {
    r.close();
  }
}

/** How many frames of these channels come before `seq`: what driving to the fork point plays. */
function framesBefore(path: string, channels: Set<number>, seq: number): number {
  const r = TapeReader.open(path);
  try {
    let n = 0;
    for (const row of r.rows({ toSeq: seq - 1 })) if (channels.has(row.channel)) n++;
    return n;
  } finally {
    r.close();
  }
}

/**
 * Continues a fork live: drives the runtime with the parent's client frames up to the fork point
 * (checked as a replay would, its LLM calls answered from the parent), puts the edit in at the
 * fork point, and records everything the runtime does from then on, ARCP and HTTP, into the child.
 */
export async function continueFork(plan: ForkPlan, o: ContinueOptions & { out: string; force?: boolean; lineage: Lineage; commandLine: string[]; redaction: RedactionRules; notes: string[] }): Promise<ContinueReport> {
  if (!o.command?.length && !o.target) throw new ToolError('E_USAGE', 'nothing to continue with', 'pass -- <runtime command> or --target ws://…');
  if (o.command?.length && o.target) throw new ToolError('E_USAGE', '-- <runtime command> and --target both name the runtime; give one', 'see arcp fork --help');
  if (o.llmUpstream && o.then) throw new ToolError('E_USAGE', '--llm-upstream and --then both say where calls after the fork point go; give one', 'see arcp fork --help');
  if (o.then && !/^tape:./.test(o.then)) throw new ToolError('E_USAGE', `--then "${o.then}" is not tape:PATH`, 'e.g. --then tape:tapes/other.tape');
  if (o.llmUpstream && (!URL.canParse(o.llmUpstream) || !/^https?:$/.test(new URL(o.llmUpstream).protocol))) throw new ToolError('E_USAGE', `--llm-upstream "${o.llmUpstream}" is not an http:// or https:// URL`, 'e.g. --llm-upstream http://127.0.0.1:8080/v1');
  const step = plan.step;
  if (step.role === 'runtime') {
    throw new ToolError('E_USAGE', `${step.address} is a frame the runtime sent; a live runtime sends its own`, 'fork it without a runtime and replay the child to the client under test: arcp replay CHILD --listen');
  }
  const thenTape = o.then?.slice('tape:'.length);
  if (thenTape) TapeReader.open(thenTape).close();
  const channels = arcpChannels(plan.parent);
  if (!channels.length) throw new ToolError('E_INPUT', `${plan.parent} has no ARCP connection to drive`, 'record the client and runtime with `arcp record`');

  const writer = await TapeWriter.create({ path: o.out, pathFlag: '--out', force: o.force, commandLine: o.commandLine, redaction: o.redaction, lineage: { ...o.lineage, continued: { runtime: scrubbed(o.target ? [o.target] : o.command!, o.redaction).join(' '), llm: (o.llmUpstream ? scrubbed([o.llmUpstream], o.redaction)[0] : undefined) ?? o.then } } });
  const vol = new Volatility(o.volatile);
  let handedOver = false;
  let httpDivergence: Divergence | undefined;
  const problems: string[] = [];
  const front = forkFront({
    parent: plan.parent,
    step,
    edited: plan.edited.kind === 'exchange' ? plan.edited : undefined,
    vol,
    pace: o.pace ?? 'recorded',
    then: thenTape,
    upstream: o.llmUpstream,
    pastFork: () => handedOver,
    onDivergence: (d) => (httpDivergence ??= d),
    onProblem: (line) => problems.push(line),
  });
  const base = llmBase(plan);
  const recorders: RecordChannel[] = [];
  const children: StdioChannel[] = [];
  const jobs = new LiveJobs();
  let handover: Handover | undefined;
  let stopped = false;
  const stop = async (): Promise<TapeSummary> => {
    stopped = true;
    jobs.stop();
    handover?.closeAll();
    await Promise.all([...recorders, ...children].map((c) => c.close()));
    return writer.close();
  };
  try {
    const http = await startHttpProxy(writer, { routes: o.llmUpstream ? [{ prefix: base || '/', upstream: o.llmUpstream.replace(/\/+$/, '') }] : [], host: o.llmHost, port: o.llmPort, respond: front.respond, onWarning: (l) => problems.push(l) }).catch((e) =>
      Promise.reject(bindError(e, { host: o.llmHost, port: o.llmPort, flag: '--llm-port' })),
    );
    recorders.push(http);
    const llmUrl = http.address + base;
    o.onLlmUrl?.(llmUrl);
    let ws: RecordChannel | undefined;
    if (o.target) recorders.push((ws = await startWsProxy(writer, { upstream: o.target, onWarning: (l) => problems.push(l) })));
    const connect = async (_ch: ChannelRow): Promise<Transport> => {
      if (stopped) throw new ToolError('E_CONNECT', 'the fork has stopped', 'see the report');
      let t: Transport;
      if (ws) {
        try {
          t = await connectWebSocket(ws.address, { skipUTF8Validation: true });
        } catch (e) {
          throw new ToolError('E_CONNECT', `cannot reach ${o.target}: ${(e as Error).message}`, 'is the runtime running? start one with `arcp serve`');
        }
      } else {
        const input = new PassThrough();
        const output = new PassThrough();
        const child = await wrapStdio(writer, { command: o.command!, input, output, env: { ...process.env, [LLM_URL_ENV]: llmUrl } });
        children.push(child);
        void child.done.then(() => output.end());
        t = new StdioTransport(output, input).keepEmptyLines();
      }
      jobs.watch(t);
      return t;
    };
    if (o.progress) o.progress.total = framesBefore(plan.parent, new Set(channels.map((c) => c.id)), step.seq);
    handover = await driveUntil({ tape: plan.parent, connect, token: o.token, volatile: o.volatile, timeoutMs: o.timeoutMs, progress: o.progress }, step.seq);
    handedOver = true;
    const prefix = handover.report;
    const llm = front.counts;
    if (!prefix.ok || httpDivergence) {
      const summary = await stop();
      rmSync(o.out, { force: true });
      return { ok: false, summary, prefix, httpDivergence, llm, jobs: [], problems, notes: [] };
    }
    const tail = await playTail({
      parent: plan.parent,
      from: step.seq,
      edited: plan.edited.kind === 'frame' ? { seq: plan.edited.seq, data: plan.edited.data } : undefined,
      handover,
      jobs,
      parentIndex: tapeSteps(plan.parent).index,
      channels,
      connect,
      timeoutMs: o.timeoutMs ?? 10_000,
    });
    if (step.exchange && !front.forkServed()) problems.push(`the runtime never made the forked call (${step.address}); the edit had no effect`);
    const summary = await stop();
    const child = tapeSteps(o.out);
    return {
      ok: !httpDivergence,
      summary,
      prefix,
      httpDivergence,
      llm,
      jobs: child.index.jobs.map((j) => ({ n: j.n, id: j.id, status: j.status ?? 'unfinished' })),
      unfinished: tail.unfinished,
      problems,
      notes: [...o.notes, ...prefix.notes, ...tail.notes],
    };
  } catch (e) {
    if (!stopped) {
      await stop().catch(() => undefined);
      rmSync(o.out, { force: true });
    }
    throw e;
  }
}
