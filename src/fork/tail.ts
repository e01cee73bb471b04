import { newId } from '../engine/ids.js';
import type { Transport } from '../engine/transport/transport.js';
import type { Handover } from '../replay/driver.js';
import { closeAsRecorded, isClose, isMessage, parsed, pongFor, sleep, typeOf } from '../replay/frames.js';
import type { ChannelRow } from '../tape/format.js';
import type { JobIndex } from '../tape/jobs.js';
import { TapeReader, type TapeFrame } from '../tape/reader.js';

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const payloadOf = (m: Record<string, unknown> | undefined) => (m?.payload && typeof m.payload === 'object' ? (m.payload as Record<string, unknown>) : {});

/**
 * What the live runtime's jobs are doing, watched on every connection from the start: which
 * run, which ended and how, which submits still wait for an answer. After the fork point it also
 * answers the runtime's pings and acknowledges its events as the recorded client did.
 */
export class LiveJobs {
  readonly running = new Set<string>();
  readonly ended = new Map<string, string>();
  /** Submits sent after the fork point and not answered yet, with the job the parent had for them. */
  private readonly awaiting: { channel: Transport; requestId?: string; recordedJob?: string }[] = [];
  lastActivity = Date.now();
  /** Session-level frames (not a job's) each connection has sent, by type: the replies a client waits for. */
  readonly replies = new Map<Transport, Map<string, number>>();
  /** Set at the fork point: from then on pings and acks are ours to send. */
  live?: { learn: (recorded: string, live: string) => void; ack?: (t: Transport, seq: number) => void };
  private readonly acks = new Map<Transport, { seq: number; timer?: NodeJS.Timeout }>();

  watch(t: Transport): void {
    t.onFrame((f) => this.onFrame(t, f.data));
    t.onClose(() => (this.lastActivity = Date.now()));
  }

  get busy(): boolean {
    return this.running.size > 0 || this.awaiting.length > 0;
  }

  expectSubmit(channel: Transport, requestId: string | undefined, recordedJob: string | undefined): void {
    this.awaiting.push({ channel, requestId, recordedJob });
  }

  private onFrame(t: Transport, data: Buffer): void {
    this.lastActivity = Date.now();
    const m = parsed(data);
    const type = str(m?.type);
    if (!m || !type) return;
    if (type === 'session.ping') {
      if (this.live) t.send(pongFor(data));
      return;
    }
    if (typeof m.event_seq === 'number' && this.live?.ack) this.scheduleAck(t, m.event_seq);
    const p = payloadOf(m);
    const id = str(m.job_id) ?? str(p.job_id);
    if (!id) {
      const seen = this.replies.get(t) ?? new Map<string, number>();
      seen.set(type, (seen.get(type) ?? 0) + 1);
      this.replies.set(t, seen);
      return;
    }
    if (type === 'job.accepted') {
      if (!this.ended.has(id)) this.running.add(id);
      if (!p.parent_job_id) this.answered(id, (a) => a.channel === t);
    } else if (type === 'job.result' || type === 'job.error') {
      this.running.delete(id);
      this.ended.set(id, type === 'job.result' ? 'success' : (str(p.final_status) ?? 'error'));
      const requestId = str((p.details as Record<string, unknown> | undefined)?.request_id);
      if (requestId) this.answered(id, (a) => a.requestId === requestId);
    }
  }

  /** Pairs the submit a job answers with it, so later frames naming the parent's job reach the live one. */
  private answered(liveJob: string, which: (a: LiveJobs['awaiting'][number]) => boolean): void {
    const i = this.awaiting.findIndex(which);
    if (i < 0) return;
    const [a] = this.awaiting.splice(i, 1);
    if (a.recordedJob) this.live?.learn(a.recordedJob, liveJob);
  }

  /** Acknowledges events 100 ms after the latest, as a client on an ack timer does. */
  private scheduleAck(t: Transport, seq: number): void {
    const a = this.acks.get(t) ?? { seq };
    a.seq = Math.max(a.seq, seq);
    this.acks.set(t, a);
    if (a.timer) return;
    a.timer = setTimeout(() => {
      a.timer = undefined;
      if (!t.closed) this.live?.ack?.(t, a.seq);
    }, 100);
    a.timer.unref();
  }

  stop(): void {
    for (const a of this.acks.values()) clearTimeout(a.timer);
  }
}

export interface TailOptions {
  parent: string;
  /** The fork point: the parent's frames from here on are the tail. */
  from: number;
  /** The edited client frame, when the fork step is one. */
  edited?: { seq: number; data: Buffer };
  handover: Handover;
  jobs: LiveJobs;
  parentIndex: JobIndex;
  channels: ChannelRow[];
  /** Opens a connection the parent opened after the fork point. */
  connect: (channel: ChannelRow) => Promise<Transport>;
  timeoutMs: number;
}

export interface TailOutcome {
  notes: string[];
  /** Why the continuation stopped before every job ended, if it did. */
  unfinished?: string;
}

/**
 * Plays the parent's client side after the fork point, where the runtime now behaves as it
 * will: each recorded client frame goes out once the live jobs have ended and the session replies
 * the recorded client waited for have come (its answers cannot be waited for, they differ now);
 * a cancel goes out as long after the previous frame as it did then; acks and pongs are sent
 * live instead; a cancel or subscribe for a job that has ended is skipped. The recorded closes
 * end the connections.
 */
export async function playTail(o: TailOptions): Promise<TailOutcome> {
  const notes = new Set<string>();
  const conns = o.handover.connections;
  const arcp = new Set(o.channels.map((c) => c.id));
  const ackTemplate = lastAck(o.parent, o.from);
  o.jobs.live = {
    learn: o.handover.learn,
    ack: ackTemplate
      ? (t, seq) => {
          const m = JSON.parse(ackTemplate.data.toString('utf8')) as Record<string, unknown>;
          m.id = newId('msg');
          m.payload = { ...payloadOf(m), last_processed_seq: seq };
          t.send(o.handover.outgoing({ ...ackTemplate, data: Buffer.from(JSON.stringify(m)) }));
        }
      : undefined,
  };
  let unfinished: string | undefined;
  /** Session-level replies the recorded client got before its next frame, per connection: waited for as it waited. */
  const owed = new Map<Transport, Map<string, number>>();
  const replied = (t: Transport) => [...(owed.get(t) ?? [])].every(([type, n]) => (o.jobs.replies.get(t)?.get(type) ?? 0) >= n);
  const pending = () => o.jobs.busy || [...conns.values()].some((t) => !t.closed && !replied(t));
  /** Waits until the live jobs have ended and the replies the recorded client waited for have come (an idle timeout). */
  const quiet = async () => {
    while (!unfinished && pending()) {
      const what = [...o.jobs.running].join(', ') || 'a reply to the client';
      if ([...conns.values()].every((t) => t.closed)) {
        if (o.jobs.busy) unfinished = `the runtime closed the connection while ${what} had not ended`;
        return;
      }
      if (Date.now() - o.jobs.lastActivity > o.timeoutMs) unfinished = `${what} still pending after ${o.timeoutMs / 1000} s without a frame`;
      else await sleep(20);
    }
  };
  const r = TapeReader.open(o.parent);
  /** The session-level replies the parent's runtime sent after `f`, before the client's next frame on that connection. */
  const owe = (t: Transport, f: TapeFrame) => {
    const seen = o.jobs.replies.get(t);
    const want = new Map<string, number>();
    for (const g of r.frames({ fromSeq: f.seq + 1, channel: f.channel })) {
      if (g.dir === 'c2s') break;
      const m = g.dir === 's2c' && isMessage(g) ? parsed(g.data) : undefined;
      const type = str(m?.type);
      if (!type || str(m!.job_id) || str(payloadOf(m).job_id) || /^session\.(ping|pong|ack)$/.test(type)) continue;
      want.set(type, (want.get(type) ?? seen?.get(type) ?? 0) + 1);
    }
    owed.set(t, want);
  };
  let lastMono = r.frames({ fromSeq: o.from, toSeq: o.from }).next().value?.mono_us ?? 0;
  try {
    for (const f of r.frames({ fromSeq: o.from })) {
      if (!arcp.has(f.channel) || f.dir !== 'c2s' && !(f.dir === 'meta' && /terminate/.test(f.data.toString()))) continue;
      const data = o.edited?.seq === f.seq ? o.edited.data : f.data;
      const frame: TapeFrame = { ...f, data };
      if (isMessage(frame)) {
        const type = typeOf(data) ?? '';
        if (type === 'session.ack' || type === 'session.pong' || type === 'session.ping') {
          notes.add(`${type} frames after the fork point were sent live, not as recorded`);
          continue;
        }
        // A cancel is the user's, in time: it goes out as long after the client's last frame as it did then.
        if (type === 'job.cancel') await sleep(Math.min(Math.max(0, (f.mono_us - lastMono) / 1000), o.timeoutMs));
        else await quiet();
        lastMono = f.mono_us;
        let t = conns.get(f.channel);
        if (!t) {
          t = await o.connect(o.channels.find((c) => c.id === f.channel)!);
          conns.set(f.channel, t);
        }
        if (t.closed) continue;
        const out = o.handover.outgoing(frame);
        const m = parsed(out);
        const job = str(m?.job_id) ?? str(payloadOf(m).job_id);
        if (/^job\.(cancel|subscribe|unsubscribe)$/.test(type) && job && o.jobs.ended.has(job)) {
          notes.add(`skipped the recorded ${type} of a job that had already ended in the continuation`);
          continue;
        }
        if (type === 'job.submit') o.jobs.expectSubmit(t, str(m?.id), o.parentIndex.submits.find((s) => s.seq === f.seq)?.jobId);
        owe(t, f);
        t.send(out, { binary: f.kind === 'ws.binary' });
        o.jobs.lastActivity = Date.now();
      } else if (isClose(frame) || f.dir === 'meta') {
        await quiet();
        const t = conns.get(f.channel);
        if (!t || t.closed) continue;
        if (f.dir === 'meta') t.terminate?.() ?? t.close();
        else closeAsRecorded(t, frame);
      }
    }
  } finally {
    r.close();
  }
  await quiet();
  o.jobs.stop();
  // The parent's client ends here: whatever is still open closes now, and the runtime gets a moment to finish.
  for (const t of conns.values()) if (!t.closed) t.close();
  const end = Date.now() + 2000;
  while ([...conns.values()].some((t) => !t.closed) && Date.now() < end) await sleep(10);
  return { notes: [...notes], unfinished };
}

/** The recorded client's last ack before `seq` (the shape live acks are sent in), if it acked. */
function lastAck(path: string, seq: number): TapeFrame | undefined {
  const r = TapeReader.open(path);
  try {
    let last: TapeFrame | undefined;
    for (const f of r.frames({ toSeq: seq })) if (f.dir === 'c2s' && isMessage(f) && typeOf(f.data) === 'session.ack') last = f;
    if (last) return last;
    for (const f of r.frames({ fromSeq: seq })) if (f.dir === 'c2s' && isMessage(f) && typeOf(f.data) === 'session.ack') return f;
    return undefined;
  } finally {
    r.close();
  }
}
