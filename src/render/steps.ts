import type { ChalkInstance } from 'chalk';
import type { Step, TapeSteps } from '../fork/steps.js';

const pad = (s: string, n: number) => (s.length >= n ? s + ' ' : s + ' '.repeat(n - s.length));
const MAX_PER_JOB = 200;

function stepLine(s: Step, c: ChalkInstance, indent: string): string {
  const also = s.also.filter((a) => !a.startsWith('seq:'));
  return `${indent}${pad(s.address, 24)} ${c.dim(pad(`seq ${s.seq}`, 10))}${s.what}${also.length ? c.dim(`  (${also.join(', ')})`) : ''}`;
}

/** `tape show`'s steps: submits, then each job with its events and the LLM exchanges it caused, addresses first to copy into `arcp fork --at`. */
export function stepLines(t: TapeSteps, c: ChalkInstance): string[] {
  if (!t.steps.length) return [];
  const lines = [c.bold('steps') + c.dim(' (an address names a point to fork at: arcp fork TAPE --at ADDRESS)')];
  for (const s of t.steps.filter((x) => x.address.startsWith('submit:'))) lines.push(stepLine(s, c, '  '));
  for (const j of t.index.jobs) {
    const state = j.status ? (j.status === 'success' ? c.green(j.status) : c.red(j.status)) : c.yellow('unfinished');
    const llm = j.exchanges.length ? `, ${j.exchanges.length} HTTP exchange${j.exchanges.length === 1 ? '' : 's'} (linked by ${[...new Set(j.exchanges.map((e) => e.linkedBy))].join(', ')})` : '';
    lines.push(`  ${c.bold(`job:${j.n}`)} ${j.id} ${j.agent ?? '?'} ${state}${j.parentId ? c.dim(` child of ${j.parentId}`) : ''}${c.dim(llm)}`);
    const own = t.steps.filter((s) => s.job === j.n && s.address.startsWith(`job:${j.n}/`));
    for (const s of own.slice(0, MAX_PER_JOB)) lines.push(stepLine(s, c, '    '));
    if (own.length > MAX_PER_JOB) lines.push(c.dim(`    … ${own.length - MAX_PER_JOB} more (--json lists all)`));
  }
  const loose = t.steps.filter((s) => /^(llm|http):/.test(s.address));
  if (loose.length) {
    lines.push(`  ${c.bold('no job')}${c.dim(' (requests without an arcp-job-id or a known traceparent)')}`);
    for (const s of loose.slice(0, MAX_PER_JOB)) lines.push(stepLine(s, c, '    '));
  }
  return [...lines, ''];
}

/** The JSON of the same: jobs with their exchanges nested, and every step. */
export function stepsJson(t: TapeSteps) {
  return {
    jobs: t.index.jobs.map((j) => ({ n: j.n, address: `job:${j.n}`, jobId: j.id, agent: j.agent, traceId: j.traceId, parentJobId: j.parentId, status: j.status ?? null, submitSeq: j.submitSeq, terminalSeq: j.terminalSeq, exchanges: j.exchanges.map((e) => ({ channel: e.channel, seq: e.seqs[0], method: e.method, path: e.path, status: e.status, linkedBy: e.linkedBy })) })),
    steps: t.steps.map((s) => ({ address: s.address, also: s.also, seq: s.seq, channel: s.channel, role: s.role, job: s.job, what: s.what })),
  };
}

/** What a timeline row adds in `--json`: the step it belongs to and, for HTTP, the job that caused it. */
export function rowLink(t: TapeSteps, seq: number): { step?: string; job?: { n: number; jobId: string; linkedBy?: string } } {
  const s = t.stepAt(seq);
  if (!s) return {};
  const e = s.exchange;
  const j = e?.jobId ? t.index.jobs.find((x) => x.id === e.jobId) : undefined;
  return { step: s.address, ...(j ? { job: { n: j.n, jobId: j.id, linkedBy: e!.linkedBy } } : {}) };
}
