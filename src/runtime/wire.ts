import { newId } from '../engine/ids.js';
import type { ArcpError } from '../engine/errors.js';

export interface OutMessage {
  type: string;
  session_id?: string;
  job_id?: string;
  trace_id?: string;
  payload: Record<string, unknown>;
}

/** Builds an envelope with the peer SDK's key order, so frames from either look alike. */
export function envelope(m: OutMessage, eventSeq?: number): Record<string, unknown> {
  const out: Record<string, unknown> = { arcp: '1.1', id: newId('msg'), type: m.type };
  if (m.session_id !== undefined) out.session_id = m.session_id;
  if (m.job_id !== undefined) out.job_id = m.job_id;
  if (eventSeq !== undefined) out.event_seq = eventSeq;
  if (m.trace_id !== undefined) out.trace_id = m.trace_id;
  out.payload = m.payload;
  return out;
}

export const nowIso = (): string => new Date().toISOString();

export function sessionError(err: ArcpError, sessionId?: string): OutMessage {
  return { type: 'session.error', session_id: sessionId, payload: { ...err.toBody() } };
}
