import { defaultRules } from '../../src/tape/redact.js';
import { TapeWriter } from '../../src/tape/writer.js';
import type { ChannelInfo, ChannelKind, Direction, FrameKind } from '../../src/tape/format.js';

/** One frame of a scripted recording: on which connection, which way, what. */
export interface Line {
  ch: number;
  dir: Direction;
  /** A message (written as ws.text) or an HTTP head/body/end. */
  msg?: Record<string, unknown>;
  kind?: FrameKind;
  data?: string | Buffer | Record<string, unknown>;
}

/**
 * Writes a tape through the real writer from scripted lines, the way a recorder would have
 * stored them: for wire behaviour our runtime never produces (a stranger's ordering, a
 * retransmission, a conflicting header), so records can be checked against it.
 */
export async function writeTape(path: string, channels: { kind: ChannelKind; info?: ChannelInfo }[], lines: Line[]): Promise<void> {
  const w = await TapeWriter.create({ path, commandLine: ['test'], redaction: defaultRules(), force: true });
  const ids = channels.map((c, i) => w.channel(c.kind, `ch${i + 1}`, c.info ?? {}));
  let t = 0;
  for (const l of lines) {
    const at = { monoUs: (t += 1000), wallMs: 1_780_000_000_000 + t / 1000 };
    const ch = ids[l.ch - 1];
    if (l.msg) w.frame(ch, l.dir, 'ws.text', JSON.stringify(l.msg), at);
    else if (Buffer.isBuffer(l.data) || typeof l.data === 'string') w.frame(ch, l.dir, l.kind!, l.data, at);
    else w.event(ch, l.dir, l.kind!, l.data, at);
  }
  await w.close();
}

/** ARCP envelopes in the reference SDK's key order. */
let n = 0;
export const env = (type: string, payload: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ arcp: '1.1', id: `msg_${String(++n).padStart(4, '0')}`, type, ...extra, payload });
export const hello = (token = 'tok') => env('session.hello', { client: { name: 'stranger', version: '1' }, auth: { scheme: 'bearer', token } });
export const welcome = (session: string) => env('session.welcome', { resume_token: 'rt_1' }, { session_id: session });
export const accepted = (session: string, job: string, agent: string, more: Record<string, unknown> = {}) => env('job.accepted', { job_id: job, agent, lease: {}, trace_id: 'a'.repeat(32), ...more }, { session_id: session, job_id: job });
export const event = (session: string, job: string, seq: number, kind: string, body: Record<string, unknown>) => env('job.event', { kind, body }, { session_id: session, job_id: job, event_seq: seq });
export const result = (session: string, job: string, seq: number, value: unknown) => env('job.result', { final_status: 'success', result: value }, { session_id: session, job_id: job, event_seq: seq });
export const jobError = (session: string, job: string, seq: number, code: string, more: Record<string, unknown> = {}) =>
  env('job.error', { final_status: code === 'CANCELLED' ? 'cancelled' : 'error', code, message: code.toLowerCase(), retryable: false, ...more }, { session_id: session, job_id: job, event_seq: seq });
