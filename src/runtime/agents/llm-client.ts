import { randomBytes } from 'node:crypto';
import { request, type Dispatcher } from 'undici';
import { ArcpError } from '../../engine/errors.js';
import type { LlmDialect, Turn } from '../../llm/dialect.js';
import { SseParser, type SseEvent } from '../../llm/sse.js';

/** The header an LLM request names its job in (beside `traceparent`), so a recording links the exchange to it. */
export const JOB_HEADER = 'arcp-job-id';

export interface ModelCall {
  /** Base URL, e.g. `http://127.0.0.1:8080/v1`; the dialect's endpoint goes after it. */
  base: string;
  dialect: LlmDialect;
  body: Record<string, unknown>;
  key?: string;
  jobId: string;
  /** The job's 32-hex trace id: the request carries it as its W3C trace context. */
  traceId: string;
  signal: AbortSignal;
  dispatcher: Dispatcher;
}

/** W3C `traceparent`: version 00, the job's trace id, a fresh span id, sampled. */
export const traceparent = (traceId: string): string => `00-${traceId}-${randomBytes(8).toString('hex')}-01`;

const MAX_ERROR_BODY = 2000;

/** One model call over HTTP (undici), streamed: the answer assembled from its SSE events (or a JSON body). */
export async function callModel(c: ModelCall): Promise<Turn> {
  const url = c.base.replace(/\/+$/, '') + c.dialect.endpoint;
  let res: Dispatcher.ResponseData;
  try {
    res = await request(url, {
      method: 'POST',
      headers: { ...c.dialect.requestHeaders(c.key), traceparent: traceparent(c.traceId), [JOB_HEADER]: c.jobId },
      body: JSON.stringify(c.body),
      signal: c.signal,
      dispatcher: c.dispatcher,
    });
  } catch (e) {
    if (c.signal.aborted) throw new ArcpError('CANCELLED', 'job has ended');
    const code = (e as { code?: string; cause?: { code?: string } }).cause?.code ?? (e as { code?: string }).code;
    throw new ArcpError('INTERNAL_ERROR', `LLM at ${url} unreachable: ${code ?? (e as Error).message}`);
  }
  const type = String(res.headers['content-type'] ?? '');
  if (res.statusCode >= 400) {
    const text = (await res.body.text()).slice(0, MAX_ERROR_BODY);
    let message = text;
    try {
      const j = JSON.parse(text) as { error?: { message?: unknown } };
      if (typeof j.error?.message === 'string') message = j.error.message;
    } catch {
      // not JSON: the text itself
    }
    throw new ArcpError('INTERNAL_ERROR', `LLM at ${url} answered ${res.statusCode}: ${message}`, { status: res.statusCode }, res.statusCode === 429 || res.statusCode >= 500);
  }
  try {
    if (!type.includes('text/event-stream')) return c.dialect.fromJson(await res.body.json()).turn;
    const parser = new SseParser();
    const events: SseEvent[] = [];
    for await (const chunk of res.body) events.push(...parser.push(chunk as Buffer));
    events.push(...parser.end());
    return c.dialect.assemble(events).turn;
  } catch (e) {
    if (c.signal.aborted) throw new ArcpError('CANCELLED', 'job has ended');
    throw new ArcpError('INTERNAL_ERROR', `LLM at ${url}: unreadable answer: ${(e as Error).message}`);
  }
}
