import { newId } from '../engine/ids.js';
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

/** `{code, reason}` of a recorded ws.close frame. */
export function closeOf(f: TapeFrame): { code?: number; reason?: string } {
  try {
    return JSON.parse(f.data.toString('utf8'));
  } catch {
    return {};
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
