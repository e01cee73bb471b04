import { traceIdOf } from '../engine/schemas/envelope.js';
import { header, readableBody } from '../tape/http-exchanges.js';
import type { HeaderPairs } from '../tape/format.js';
import { RecordBuilder, type Timed } from './build.js';
import { jobAttrs, obj, recordId, str, type Context } from './context.js';
import type { Job } from './ledger.js';
import { assembleAnswer } from './llm-answer.js';
import type { ArcpRecord, FrameRef } from './schema.js';
import { CREDENTIAL_HEADERS, shownSecret } from './secrets.js';
import type { HttpExchange } from './walk.js';

/** The job id header the tool-using agent sends beside `traceparent` on every LLM request. */
export const JOB_ID_HEADER = 'arcp-job-id';

const parse = (s: string): unknown => {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
};

/** The request as a record's inputs: its head (credential headers shown as placeholders or digests) and its body decoded. */
function requestInputs(e: HttpExchange): Record<string, unknown> {
  const head = e.request!;
  const body = readableBody(head.headers, Buffer.concat(e.requestBody));
  const text = body.data.toString('utf8');
  return {
    method: head.method,
    path: head.path,
    headers: head.headers.map(([k, v]) => [k, CREDENTIAL_HEADERS.has(k.toLowerCase()) ? shownSecret(v) : v]),
    body: body.data.length ? (parse(text) ?? text) : null,
  };
}

/**
 * The job an exchange belongs to: the one its `arcp-job-id` header names, else the job whose
 * trace its `traceparent` carries (of several, the latest one started before the request that
 * had not ended by then: a delegated child shares its parent's trace).
 */
function correlate(c: Context, headers: HeaderPairs, at: number): { jobId?: string; job?: Job; by?: string; trace?: string; conflict?: string } {
  const named = header(headers, JOB_ID_HEADER)?.trim() || undefined;
  const trace = traceIdOf(header(headers, 'traceparent')?.trim());
  const traced = trace ? [...c.ledger.jobs.values()].filter((j) => (str(j.known.payload.trace_id) ?? str(j.known.env.trace_id)) === trace) : [];
  const live = traced.filter((j) => j.known.seq < at && (!j.terminal || j.terminal.seq > at));
  const byTrace = (live.length ? live : traced).sort((a, b) => b.known.seq - a.known.seq)[0];
  if (named) {
    const job = c.ledger.jobs.get(named);
    const conflict = byTrace && trace && !traced.some((j) => j.id === named) ? `traceparent names trace ${trace} of job ${byTrace.id}, arcp-job-id names ${named}` : undefined;
    return { jobId: named, job, by: JOB_ID_HEADER, trace, conflict };
  }
  if (byTrace) return { jobId: byTrace.id, job: byTrace, by: 'traceparent', trace };
  return { trace };
}

function llmRecord(c: Context, e: HttpExchange): ArcpRecord {
  const b = new RecordBuilder(c.fingerprint, 'llm');
  const head = e.request;
  const headRef = e.requestRef ?? e.lastRef;
  const inputs = head ? requestInputs(e) : {};
  const model = str(obj(inputs.body).model);
  const respHeaders = e.response?.headers ?? [];
  const resp = readableBody(respHeaders, Buffer.concat(e.responseBody));
  const answer = e.response ? assembleAnswer(resp.data, header(respHeaders, 'content-type') ?? '', e.sse) : undefined;
  const named = model ?? str(obj(answer?.value).model);
  const path = head?.path.split('?')[0] ?? '?';
  const corr = correlate(c, head?.headers ?? [], headRef.seq);
  const inputRefs: FrameRef[] = [headRef, ...e.requestBodyRefs];
  const outRefs: (FrameRef | undefined)[] = [e.responseRef, ...e.responseBodyRefs];
  b.set('id', recordId(c, 'llm', `ch${e.channel}`), headRef);
  const who = corr.jobId ? ` for job ${corr.jobId}` : ' (no job named in the request)';
  b.set('intent', `${named ? `ask model "${named}"` : 'call the LLM API'} at ${head?.method ?? '?'} ${path}${who}`, ...inputRefs, ...(model ? [] : outRefs));
  b.set('action', `llm:${path}${named ? ` ${named}` : ''}`, ...inputRefs, ...(model ? [] : outRefs));
  b.set('inputs', inputs, ...inputRefs);
  if (corr.jobId) b.set('correlationId', corr.jobId, headRef);
  const start: Timed = { ...headRef, wall: e.firstWall };
  b.span(start, { ...e.lastRef, wall: e.lastWall });
  const status = e.response?.status;
  const endRefs = [e.responseRef, e.end?.ref];
  if (!e.response) {
    const why = e.end?.kind === 'error' ? String(e.end.event.error ?? 'transport error') : 'the tape holds no response';
    b.outcome({ ok: false, error: { name: e.end ? 'TransportError' : 'NoOutcome', message: why }, refs: [e.end?.ref ?? e.lastRef] });
  } else if (status! >= 400) {
    const err = obj(obj(answer?.value).error);
    const message = str(err.message) ?? (typeof answer?.value === 'string' ? answer.value.slice(0, 200) : `HTTP ${status}`);
    b.outcome({ ok: false, error: { name: 'HttpError', message, code: `HTTP_${status}` }, refs: [...outRefs, ...endRefs], output: answer?.value });
  } else if (e.end?.kind === 'error' || !e.end) {
    const client = str(e.end?.event.client);
    const message = e.end ? `${String(e.end.event.error ?? 'transport error')}${client ? ` (the client's connection: ${client})` : ''}` : 'the tape ends before the response does';
    b.outcome({ ok: false, error: e.end ? { name: 'TransportError', message, ...(client ? { code: client } : {}) } : { name: 'NoOutcome', message }, refs: [...outRefs, e.end?.ref ?? e.lastRef], output: answer?.value });
  } else b.outcome({ ok: true, output: answer?.value ?? null, refs: [...outRefs, e.end.ref] });
  if (corr.job) jobAttrs(b, c, corr.job);
  else b.attr('arcp.job_id', corr.jobId, headRef);
  b.attr('arcp.correlated_by', corr.by, headRef);
  if (corr.trace) b.attr('arcp.trace_id', corr.trace, headRef);
  b.attr('arcp.notes', corr.conflict, headRef);
  b.attr('http.method', head?.method, headRef);
  b.attr('http.route', e.route, headRef);
  b.attr('http.status', status, e.responseRef);
  b.attr('http.client', str(e.end?.event.client), e.end?.ref);
  b.attr('llm.model', named, ...(model ? inputRefs : outRefs));
  b.attr('llm.stream', e.sse || undefined, ...e.responseBodyRefs);
  b.attr('llm.dialect', answer?.dialect, ...outRefs);
  if (resp.decoded) b.attr('http.content_encoding', resp.codings.join(', '), e.responseRef);
  return b.build(corr.jobId);
}

/** A record per HTTP exchange on the tape: the LLM calls, each with the job that made it when the request says. */
export function llmRecords(c: Context): ArcpRecord[] {
  return c.ledger.exchanges.map((e) => llmRecord(c, e));
}
