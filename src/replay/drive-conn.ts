import type { Transport } from '../engine/transport/transport.js';
import type { ChannelRow } from '../tape/format.js';
import type { TapeFrame } from '../tape/reader.js';
import { parsed, pongFor, typeOf } from './frames.js';
import { EarlyFrames } from './early.js';
import type { IdMap } from './ids.js';

/** One live connection of a client-side replay, and the recorded runtime frames it still owes. */
export class DriveConn {
  t?: Transport;
  /** Recorded runtime frames not yet seen live, by stream: `session`, `job:<recorded id>`, `pong:<nonce>`. */
  readonly streams = new Map<string, TapeFrame[]>();
  /** Live frames that arrived before the recording's cursor reached them, with their parse. */
  readonly early = new EarlyFrames();
  lastEventSeq?: number;
  /** How the runtime closed this connection, once it did. */
  closed?: { code?: number };
  /** The replay closed it itself (the recorded client's close). */
  closedBySelf = false;
  /** The recorded client vanished (1006, terminate): frames the runtime sent meanwhile are timing, not judged. */
  vanished = false;
  /** A recorded close by the runtime that this connection still owes. */
  expectedClose?: TapeFrame;
  /** The runtime's exit code, for a stdio child. */
  exit?: { code?: number; reason?: string };

  /** `job:<id>` by id: a frame names its job's stream without building the key again (one string a frame less). */
  private readonly jobKeys = new Map<string, string>();

  constructor(readonly channel: ChannelRow) {}

  private jobKey(id: string): string {
    let key = this.jobKeys.get(id);
    if (key === undefined) this.jobKeys.set(id, (key = `job:${id}`));
    return key;
  }

  attach(t: Transport, onLive: (c: DriveConn, data: Buffer) => void, onClose: (c: DriveConn) => void): void {
    this.t = t;
    t.onFrame((f) => onLive(this, f.data));
    t.onClose((info) => {
      this.closed = { code: info.code };
      if (t.kind === 'stdio') this.exit = { code: info.code, reason: info.reason };
      onClose(this);
    });
  }

  /** Queues a recorded runtime frame to be matched with what arrives live; returns its stream. */
  expect(f: TapeFrame, m: Record<string, unknown> | undefined = parsed(f.data)): string {
    const key = this.streamOf(m);
    const q = this.streams.get(key);
    if (q) q.push(f);
    else this.streams.set(key, [f]);
    return key;
  }

  /** Keeps a live frame nothing recorded answers yet, under the stream it names. */
  keepEarly(data: Buffer, m: Record<string, unknown> | undefined): void {
    this.early.push(this.streamOf(m), data, m);
  }

  /** The recorded frame a live one answers: the head of its stream, or undefined when nothing is expected there yet. */
  take(m: Record<string, unknown> | undefined, ids: IdMap): TapeFrame | undefined {
    const key = this.streamOfLive(m, ids);
    return this.streams.get(key)?.shift();
  }

  /** Answers a live ping (heartbeats run on the live runtime's timer, not the recording's). */
  answerPing(data: Buffer): void {
    this.t?.send(pongFor(data));
  }

  /** The stream a frame names (recorded ids for a recorded frame, live ones for a live frame): a pong by the nonce it answers, a job's frames, or the session's. */
  private streamOf(m: Record<string, unknown> | undefined): string {
    const pong = pongKey(m);
    if (pong) return pong;
    const job = jobIdOf(m);
    return job ? this.jobKey(job) : 'session';
  }

  private streamOfLive(m: Record<string, unknown> | undefined, ids: IdMap): string {
    const pong = pongKey(m);
    if (pong) return pong;
    const job = jobIdOf(m);
    if (!job) return 'session';
    const rec = ids.recorded(job);
    if (rec !== undefined) return this.jobKey(rec);
    // A job this run has not seen yet: the earliest recorded job not yet mapped whose next frame is of this type.
    let best: { key: string; seq: number } | undefined;
    for (const [key, q] of this.streams) {
      if (!key.startsWith('job:') || !q.length || ids.live(key.slice(4)) !== undefined) continue;
      if (typeOf(q[0].data) === m?.type && (!best || q[0].seq < best.seq)) best = { key, seq: q[0].seq };
    }
    return best?.key ?? `job:?${job}`;
  }
}


/** Pongs answer a nonce the replay sent as recorded, so they pair by it, wherever they fall. */
function pongKey(m: Record<string, unknown> | undefined): string | undefined {
  if (m?.type !== 'session.pong') return undefined;
  const nonce = (m.payload as { ping_nonce?: unknown } | undefined)?.ping_nonce;
  return typeof nonce === 'string' ? `pong:${nonce}` : undefined;
}

/** The job a frame belongs to (envelope, or job.accepted's payload). */
export function jobIdOf(m: Record<string, unknown> | undefined): string | undefined {
  const id = m?.job_id ?? (m?.payload as { job_id?: unknown } | undefined)?.job_id;
  return typeof id === 'string' ? id : undefined;
}
