import { FLAG, isMessageKind, RequestHead, ResponseHead, type Direction } from './format.js';
import type { TapeReader } from './reader.js';

/** One `job.event` of a job, as recorded. */
export interface JobEvent {
  seq: number;
  kind: string;
  callId?: string;
  tool?: string;
  /** A few words of what it says (the thought's text, the tool's args or result). */
  gist: string;
}

/** One HTTP exchange (a channel), and the job that caused it when its request says so. */
export interface Exchange {
  channel: number;
  /** Its frames' seqs: request head first. */
  seqs: number[];
  method: string;
  path: string;
  status?: number;
  /** SSE events in the response, when it streamed. */
  sseEvents: number;
  jobId?: string;
  /** How the job was found: the `arcp-job-id` header, or the trace id of its `traceparent`. */
  linkedBy?: 'job-id header' | 'traceparent';
  traceId?: string;
}

export interface Job {
  /** 1-based, in the order the jobs first appear in the tape. */
  n: number;
  id: string;
  channel: number;
  agent?: string;
  traceId?: string;
  parentId?: string;
  submitSeq?: number;
  acceptedSeq?: number;
  /** The terminal frame: `job.result` (status success) or `job.error` (its final_status). */
  terminalSeq?: number;
  status?: string;
  result?: unknown;
  error?: { code?: string; message?: string };
  events: JobEvent[];
  exchanges: Exchange[];
}

export interface Submit {
  /** 1-based over the tape. */
  n: number;
  seq: number;
  channel: number;
  agent?: string;
  /** Its envelope id: a rejection names it. */
  requestId?: string;
  jobId?: string;
}

export interface JobIndex {
  jobs: Job[];
  submits: Submit[];
  exchanges: Exchange[];
  /** Client (c2s) and runtime (s2c) ARCP frames by seq: what a step at a frame is. */
  messageDirs: Map<number, Direction>;
  /** The HTTP exchange a frame belongs to. */
  exchangeOf: Map<number, Exchange>;
}

/** The job id an LLM request names (`arcp serve`'s assistant sends it beside `traceparent`). */
export const JOB_ID_HEADER = 'arcp-job-id';
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

function gistOf(kind: string, body: Record<string, unknown>): string {
  const clip = (s: string) => (s.length > 60 ? s.slice(0, 59) + '…' : s);
  if (kind === 'thought') return clip(String(body.text ?? ''));
  if (kind === 'tool_call') return clip(`${str(body.tool) ?? '?'}(${JSON.stringify(body.args ?? null)})`);
  if (kind === 'tool_result') return clip(body.error !== undefined ? `error ${JSON.stringify(obj(body.error).code ?? body.error)}` : JSON.stringify(body.result ?? null));
  if (kind === 'log') return clip(String(body.message ?? ''));
  if (kind === 'status') return clip(String(body.phase ?? ''));
  return '';
}

/**
 * Reads a tape's jobs: their ARCP frames (submit, accepted, events, terminal) and the HTTP
 * exchanges they caused, linked by the job id or trace context the request carried. Derived
 * when the tape is read, so recording does no work for it.
 */
export function indexJobs(tape: TapeReader): JobIndex {
  const jobs = new Map<string, Job>();
  const submits: Submit[] = [];
  const exchanges = new Map<number, Exchange>();
  const messageDirs = new Map<number, Direction>();
  const exchangeOf = new Map<number, Exchange>();
  const httpChannels = new Set(tape.channels().filter((c) => c.kind === 'http').map((c) => c.id));
  const job = (id: string, channel: number, seq: number): Job => {
    let j = jobs.get(id);
    if (!j) jobs.set(id, (j = { n: jobs.size + 1, id, channel, events: [], exchanges: [], acceptedSeq: undefined }));
    j.acceptedSeq ??= seq;
    return j;
  };
  for (const f of tape.frames()) {
    if (httpChannels.has(f.channel)) {
      let e = exchanges.get(f.channel);
      if (!e) exchanges.set(f.channel, (e = { channel: f.channel, seqs: [], method: '?', path: '?', sseEvents: 0 }));
      e.seqs.push(f.seq);
      exchangeOf.set(f.seq, e);
      try {
        if (f.kind === 'http.request') {
          const h = RequestHead.parse(JSON.parse(f.data.toString('utf8')));
          e.method = h.method;
          e.path = h.path;
          for (const [k, v] of h.headers) {
            const key = k.toLowerCase();
            if (key === JOB_ID_HEADER) e.jobId = v;
            else if (key === 'traceparent') e.traceId = TRACEPARENT.exec(v.trim())?.[1];
          }
        } else if (f.kind === 'http.response') e.status = ResponseHead.parse(JSON.parse(f.data.toString('utf8'))).status;
        else if (f.kind === 'http.response.body' && f.flags & FLAG.sse) e.sseEvents += f.data.toString('latin1').split('\n\n').length - 1;
      } catch {
        // a head that does not parse stays '?': the exchange is still listed
      }
      continue;
    }
    if (!isMessageKind(f.kind) || f.dir === 'meta' || f.data[0] !== 0x7b) continue;
    let m: Record<string, unknown>;
    try {
      m = obj(JSON.parse(f.data.toString('utf8')));
    } catch {
      continue;
    }
    const type = str(m.type);
    if (!type) continue;
    messageDirs.set(f.seq, f.dir);
    const p = obj(m.payload);
    if (f.dir === 'c2s') {
      if (type === 'job.submit') submits.push({ n: submits.length + 1, seq: f.seq, channel: f.channel, agent: str(p.agent), requestId: str(m.id) });
      continue;
    }
    const id = str(m.job_id) ?? str(p.job_id);
    if (!id || !type.startsWith('job.')) continue;
    const j = job(id, f.channel, f.seq);
    if (type === 'job.accepted') {
      j.agent ??= str(p.agent);
      j.traceId ??= str(p.trace_id) ?? str(m.trace_id);
      j.parentId ??= str(p.parent_job_id);
      if (!j.parentId && j.submitSeq === undefined) {
        const s = submits.find((x) => x.channel === f.channel && !x.jobId && x.seq < f.seq);
        if (s) {
          s.jobId = id;
          j.submitSeq = s.seq;
        }
      }
    } else if (type === 'job.event') {
      const kind = str(p.kind) ?? '?';
      const body = obj(p.body);
      j.events.push({ seq: f.seq, kind, callId: str(body.call_id), tool: str(body.tool), gist: gistOf(kind, body) });
    } else if (type === 'job.result' || type === 'job.error') {
      j.terminalSeq ??= f.seq;
      j.status ??= type === 'job.result' ? 'success' : (str(p.final_status) ?? 'error');
      if (type === 'job.result') j.result ??= p.result ?? (p.result_id !== undefined ? { result_id: p.result_id } : null);
      else j.error ??= { code: str(p.code), message: str(p.message) };
      // A rejected submit is answered by a job.error naming its envelope id.
      const requestId = str(obj(p.details).request_id);
      const s = requestId ? submits.find((x) => x.requestId === requestId) : undefined;
      if (s && !s.jobId) {
        s.jobId = id;
        j.submitSeq = s.seq;
      }
    }
  }
  const list = [...jobs.values()];
  const byTrace = new Map<string, Job>();
  for (const j of list) if (j.traceId && !j.parentId && !byTrace.has(j.traceId)) byTrace.set(j.traceId, j);
  for (const e of exchanges.values()) {
    const j = (e.jobId && jobs.get(e.jobId)) || (e.traceId && byTrace.get(e.traceId)) || undefined;
    if (!j) continue;
    e.linkedBy = e.jobId && jobs.has(e.jobId) ? 'job-id header' : 'traceparent';
    e.jobId = j.id;
    j.exchanges.push(e);
  }
  return { jobs: list, submits, exchanges: [...exchanges.values()], messageDirs, exchangeOf };
}
