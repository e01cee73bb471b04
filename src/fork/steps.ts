import { ToolError } from '../errors.js';
import { dialectForPath } from '../llm/dialects.js';
import { indexJobs, type Exchange, type Job, type JobIndex } from '../tape/jobs.js';
import { TapeReader } from '../tape/reader.js';

/** What a step is: a frame the client sent, one the runtime sent, an LLM exchange, another HTTP exchange. */
export type StepRole = 'client' | 'runtime' | 'llm' | 'http';

/** A point of a recorded run that `arcp fork --at` can name. */
export interface Step {
  /** The address `arcp tape show` prints: `submit:1`, `job:1/llm:3`, `job:1/event:4`, `job:1/result`. */
  address: string;
  /** Other addresses naming the same step (`seq:12`, `llm:3`, `job:1/tool_call:call_9`). */
  also: string[];
  /** Its first frame (an exchange's request head). */
  seq: number;
  channel: number;
  role: StepRole;
  /** The job it belongs to (its number). */
  job?: number;
  what: string;
  /** An exchange step's exchange. */
  exchange?: Exchange;
}

export const isLlmExchange = (e: Exchange): boolean => e.method === 'POST' && dialectForPath(e.path) !== undefined;

function exchangeWhat(e: Exchange): string {
  return `${e.method} ${e.path}${e.status !== undefined ? ` → ${e.status}` : ''}${e.sseEvents ? ` (${e.sseEvents} SSE events)` : ''}`;
}

/** Every semantic step of the tape, in seq order. */
export function listSteps(index: JobIndex): Step[] {
  const steps: Step[] = [];
  const httpN = new Map(index.exchanges.map((e, i) => [e, i + 1]));
  const llmAll = index.exchanges.filter(isLlmExchange);
  const llmN = new Map(llmAll.map((e, i) => [e, i + 1]));
  for (const s of index.submits) steps.push({ address: `submit:${s.n}`, also: [`seq:${s.seq}`], seq: s.seq, channel: s.channel, role: 'client', job: s.jobId ? index.jobs.find((j) => j.id === s.jobId)?.n : undefined, what: `job.submit ${s.agent ?? ''}`.trim() });
  const exchangeStep = (e: Exchange, address: string, job?: Job): Step => {
    const also = [`http:${httpN.get(e)}`, `seq:${e.seqs[0]}`];
    if (llmN.has(e) && address !== `llm:${llmN.get(e)}`) also.unshift(`llm:${llmN.get(e)}`);
    return { address, also, seq: e.seqs[0], channel: e.channel, role: isLlmExchange(e) ? 'llm' : 'http', job: job?.n, what: exchangeWhat(e), exchange: e };
  };
  for (const j of index.jobs) {
    const ref = `job:${j.n}`;
    if (j.acceptedSeq !== undefined && j.acceptedSeq !== j.terminalSeq) steps.push({ address: `${ref}/accepted`, also: [`seq:${j.acceptedSeq}`], seq: j.acceptedSeq, channel: j.channel, role: 'runtime', job: j.n, what: `job.accepted ${j.agent ?? ''}`.trim() });
    j.events.forEach((ev, i) => {
      const also = [`seq:${ev.seq}`];
      if (ev.callId && (ev.kind === 'tool_call' || ev.kind === 'tool_result')) also.unshift(`${ref}/${ev.kind}:${ev.callId}`);
      steps.push({ address: `${ref}/event:${i + 1}`, also, seq: ev.seq, channel: j.channel, role: 'runtime', job: j.n, what: `${ev.kind}${ev.gist ? ` ${ev.gist}` : ''}` });
    });
    j.exchanges.filter(isLlmExchange).forEach((e, i) => steps.push(exchangeStep(e, `${ref}/llm:${i + 1}`, j)));
    if (j.terminalSeq !== undefined) steps.push({ address: `${ref}/result`, also: [`seq:${j.terminalSeq}`], seq: j.terminalSeq, channel: j.channel, role: 'runtime', job: j.n, what: `${j.status === 'success' ? 'job.result' : `job.error ${j.error?.code ?? j.status}`}` });
  }
  for (const e of index.exchanges) {
    if (e.jobId && isLlmExchange(e)) continue;
    steps.push(exchangeStep(e, isLlmExchange(e) ? `llm:${llmN.get(e)}` : `http:${httpN.get(e)}`, index.jobs.find((j) => j.id === e.jobId)));
  }
  return steps.sort((a, b) => a.seq - b.seq);
}

const FORMS = 'seq:N, submit:N, job:N/llm:N, job:N/event:N, job:N/tool_call:CALL_ID, job:N/result, llm:N, http:N';

function noStep(address: string, why: string, nearest: string[]): ToolError {
  const near = nearest.filter(Boolean).slice(0, 4);
  return new ToolError('E_USAGE', `no step ${address} in the tape: ${why}`, `${near.length ? `nearest: ${near.join(', ')}; ` : ''}\`arcp tape show TAPE\` lists every step`);
}

/** The addresses of `n` (1-based) closest to `want`, from a list of that many. */
function around(prefix: string, count: number, want: number): string[] {
  if (!count) return [];
  const at = Math.min(Math.max(want, 1), count);
  return [at, at - 1, at + 1].filter((i) => i >= 1 && i <= count).map((i) => `${prefix}${i}`);
}

/**
 * The step an address names. Frames are addressed by seq; semantically, an LLM exchange of a job
 * (`job:1/llm:3`), the Nth event of a job, a tool call by `call_id`, a submit by position, a
 * job's terminal frame. A bad address is a one-line error naming the nearest valid ones.
 */
export function resolveStep(index: JobIndex, steps: Step[], address: string): Step {
  const a = address.trim();
  const bySeq = (seq: number): Step | undefined => steps.find((s) => s.seq === seq || s.exchange?.seqs.includes(seq));
  let m: RegExpExecArray | null;
  if ((m = /^(?:seq:)?(\d+)$/.exec(a))) {
    const seq = Number(m[1]);
    const step = bySeq(seq);
    if (step) return step;
    const dir = index.messageDirs.get(seq);
    if (dir === 'c2s' || dir === 's2c') return { address: `seq:${seq}`, also: [], seq, channel: 0, role: dir === 'c2s' ? 'client' : 'runtime', what: 'frame' };
    const near = steps.map((s) => s.seq).sort((x, y) => Math.abs(x - seq) - Math.abs(y - seq)).slice(0, 3).map((s) => `seq:${s}`);
    throw noStep(a, `frame ${seq} is not an ARCP message or an HTTP exchange (a transport event, or past the end)`, near);
  }
  if ((m = /^submit:(\d+)$/.exec(a))) {
    const n = Number(m[1]);
    const s = index.submits[n - 1];
    if (s) return steps.find((x) => x.seq === s.seq)!;
    throw noStep(a, index.submits.length ? `the tape has ${index.submits.length} job.submit${index.submits.length === 1 ? '' : 's'}` : 'the tape has no job.submit', around('submit:', index.submits.length, n));
  }
  if ((m = /^(llm|http):(\d+)$/.exec(a))) {
    const [, what, num] = m;
    const n = Number(num);
    const list = what === 'llm' ? index.exchanges.filter(isLlmExchange) : index.exchanges;
    const e = list[n - 1];
    if (e) return bySeq(e.seqs[0])!;
    throw noStep(a, `the tape has ${list.length} ${what === 'llm' ? 'LLM' : 'HTTP'} exchange${list.length === 1 ? '' : 's'}`, around(`${what}:`, list.length, n));
  }
  if ((m = /^job:([^/]+)(?:\/(.*))?$/.exec(a))) {
    const [, ref, rest] = m;
    const job = /^\d+$/.test(ref) ? index.jobs[Number(ref) - 1] : index.jobs.find((j) => j.id === ref);
    if (!job) throw noStep(a, index.jobs.length ? `the tape has ${index.jobs.length} job${index.jobs.length === 1 ? '' : 's'}` : 'the tape has no jobs', /^\d+$/.test(ref) ? around('job:', index.jobs.length, Number(ref)).map((j) => `${j}/…`) : index.jobs.slice(0, 3).map((j) => `job:${j.n}/… (${j.id})`));
    const ofJob = steps.filter((s) => s.job === job.n && s.address.startsWith(`job:${job.n}/`));
    const jp = `job:${job.n}/`;
    if (rest === undefined || rest === '') throw noStep(a, 'a job is not a step; name one of its steps', ofJob.slice(0, 4).map((s) => s.address));
    let k: RegExpExecArray | null;
    if ((k = /^(llm|event):(\d+)$/.exec(rest))) {
      const n = Number(k[2]);
      const list = ofJob.filter((s) => (k![1] === 'llm' ? s.role === 'llm' : s.address.startsWith(`${jp}event:`)));
      const step = list[n - 1];
      if (step) return step;
      const noun = k[1] === 'llm' ? 'LLM exchange' : 'event';
      throw noStep(a, `job ${job.n} has ${list.length} ${noun}${list.length === 1 ? '' : 's'}`, around(`${jp}${k[1]}:`, list.length, n));
    }
    if ((k = /^(tool_call|tool_result|call):(.+)$/.exec(rest))) {
      const kind = k[1] === 'call' ? 'tool_call' : k[1];
      const id = k[2];
      const step = ofJob.find((s) => s.also.includes(`${jp}${kind}:${id}`));
      if (step) return step;
      const ids = job.events.filter((e) => e.kind === kind && e.callId).map((e) => e.callId!);
      const near = [...ids].sort((x, y) => distance(x, id) - distance(y, id)).map((i) => `${jp}${kind}:${i}`);
      throw noStep(a, ids.length ? `job ${job.n} has no ${kind} with call_id "${id}"` : `job ${job.n} has no ${kind} events`, near);
    }
    if (rest === 'result' || rest === 'accepted') {
      const step = ofJob.find((s) => s.address === `${jp}${rest}`);
      if (step) return step;
      throw noStep(a, rest === 'result' ? `job ${job.n} has no terminal frame (the recording ends before it)` : `job ${job.n} has no job.accepted`, ofJob.slice(-3).map((s) => s.address));
    }
    throw noStep(a, `"${rest}" is not a step of a job (llm:N, event:N, tool_call:CALL_ID, result, accepted)`, ofJob.slice(0, 3).map((s) => s.address));
  }
  if ((m = /^(tool_call|tool_result|call):(.+)$/.exec(a))) {
    const kind = m[1] === 'call' ? 'tool_call' : m[1];
    const hits = steps.filter((s) => s.also.some((x) => x.endsWith(`/${kind}:${m![2]}`)));
    if (hits.length === 1) return hits[0];
    if (hits.length > 1) throw noStep(a, `${hits.length} jobs have a ${kind} "${m[2]}"; name the job`, hits.map((s) => s.also[0]));
    const all = steps.flatMap((s) => s.also.filter((x) => x.includes(`/${kind}:`)));
    throw noStep(a, `no ${kind} has call_id "${m[2]}"`, all.sort((x, y) => distance(x.split(':').pop()!, m![2]) - distance(y.split(':').pop()!, m![2])));
  }
  throw new ToolError('E_USAGE', `"${address}" is not a step address`, `use ${FORMS}; \`arcp tape show TAPE\` lists every step`);
}

/** Edit distance, for "did you mean" call ids. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const t = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = t;
    }
  }
  return d[b.length];
}

export interface TapeSteps {
  index: JobIndex;
  steps: Step[];
  /** The step each frame belongs to (an exchange's frames all belong to it). */
  stepAt(seq: number): Step | undefined;
}

/** A tape's jobs and steps, for `tape show` and `fork`. */
export function tapeSteps(path: string): TapeSteps {
  const tape = TapeReader.open(path);
  try {
    const index = indexJobs(tape);
    const steps = listSteps(index);
    const at = new Map<number, Step>();
    for (const s of steps) for (const seq of s.exchange?.seqs ?? [s.seq]) at.set(seq, s);
    return { index, steps, stepAt: (seq) => at.get(seq) };
  } finally {
    tape.close();
  }
}
