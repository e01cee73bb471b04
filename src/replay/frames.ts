import { newId } from '../engine/ids.js';
import type { Transport } from '../engine/transport/transport.js';
import { closeAction } from '../engine/transport/websocket.js';
import type { TapeFrame } from '../tape/reader.js';

/** The `type` of an ARCP frame, if it is one (cheap: parses only what looks like JSON). */
export function typeOf(data: Buffer): string | undefined {
  if (data[0] !== 0x7b) return undefined;
  try {
    const t = (JSON.parse(data.toString('utf8')) as { type?: unknown }).type;
    return typeof t === 'string' ? t : undefined;
  } catch {
    return undefined;
  }
}

export function parsed(data: Buffer): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(data.toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** A `session.pong` answering a live `session.ping` (echoing its nonce), for heartbeats the recording has elsewhere. */
export function pongFor(ping: Buffer): string {
  const m = parsed(ping);
  const pong: Record<string, unknown> = { arcp: '1.1', id: newId('msg'), type: 'session.pong' };
  if (typeof m?.session_id === 'string') pong.session_id = m.session_id;
  pong.payload = { ping_nonce: (m?.payload as { nonce?: unknown } | undefined)?.nonce, received_at: new Date().toISOString() };
  return JSON.stringify(pong);
}

/** Heartbeat and flow-control frames: timing-dependent, so matched loosely (see docs/replay.md). */
export const FLOW = new Set(['session.ping', 'session.pong', 'session.ack']);

export const isMessage = (f: TapeFrame): boolean => f.dir !== 'meta' && (f.kind === 'ws.text' || f.kind === 'ws.binary' || f.kind === 'stdio.line');

/**
 * A recorded end of one side's stream: a WebSocket close frame, or (stdio) the end of a pipe,
 * recorded as `transport.close` with the direction of the side that ended it.
 */
export const isClose = (f: TapeFrame): boolean => f.kind === 'ws.close' || (f.kind === 'transport.close' && f.dir !== 'meta');

/** The recorder's own close when it was stopped (`ws.close`, dir `meta`): both recorded sides got a 1001 from it. */
export const isRecorderClose = (f: TapeFrame): boolean => f.kind === 'ws.close' && f.dir === 'meta';

/** `{code, reason}` of a recorded ws.close frame. */
export function closeOf(f: TapeFrame): { code?: number; reason?: string } {
  try {
    return JSON.parse(f.data.toString('utf8'));
  } catch {
    return {};
  }
}

/**
 * Closes `t` the way the recorded side closed. Codes that only report what happened (1005 no
 * status, 1006 abnormal, 1015 TLS, or codes RFC 6455 does not let an endpoint send) are reproduced
 * as what the peer saw: a close without a status code, or a dropped connection for 1006.
 * Returns a note for the report when the close was reproduced rather than sent as recorded.
 */
export function closeAsRecorded(t: Transport, f: TapeFrame): string | undefined {
  const { code, reason } = closeOf(f);
  if (t.kind !== 'websocket') {
    t.close(code, reason);
    return undefined;
  }
  const action = closeAction(code);
  t.close(code ?? 1005, reason);
  if (isRecorderClose(f)) return `frame ${f.seq}: the recording was stopped here by arcp record, which closed both sides with ${code}; replay closed the same way`;
  if (action === 'drop') return `frame ${f.seq}: the recorded side vanished without a close frame (1006); replay dropped the TCP connection`;
  if (action === 'no-status') {
    const what = code === undefined || code === 1005 ? 'without a status code (1005)' : code === 1015 ? 'with 1015 (a TLS failure, which no endpoint sends)' : `with ${code}, which RFC 6455 does not let an endpoint send`;
    return `frame ${f.seq}: the recorded side closed ${what}; replay closed without a status code`;
  }
  return undefined;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
