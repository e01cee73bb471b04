import { spawnStdio } from '../engine/transport/stdio.js';
import type { Transport } from '../engine/transport/transport.js';
import { connectWebSocket } from '../engine/transport/websocket.js';
import { ToolError } from '../errors.js';
import { describeFrame } from '../tape/inspect.js';
import type { TapeFrame } from '../tape/reader.js';
import { PLACEHOLDER } from '../tape/redact.js';
import { TapeReader } from '../tape/reader.js';
import { compareFrames } from './compare.js';
import { closeOf, isMessage, parsed, pongFor, sleep, typeOf } from './frames.js';
import { IdMap } from './ids.js';
import { Outcome } from './outcome.js';
import { clip, type Divergence, type ReplayReport } from './report.js';
import { ChannelScript, type ReplayProgress } from './script.js';
import { Volatility, type VolatileRules } from './volatile.js';

export interface DriveOptions {
  tape: string;
  /** A live runtime's WebSocket URL… */
  target?: string;
  /** …or a runtime command speaking stdio. */
  command?: string[];
  /** The real bearer token, for tapes whose token was redacted. */
  token?: string;
  volatile?: VolatileRules;
  timeoutMs?: number;
  keepGoing?: boolean;
  /** Counts the frames played, for a progress line. */
  progress?: ReplayProgress;
}

class Stop extends Error {}

const LOOKAHEAD = 10_000;

/**
 * `arcp replay --target | -- <runtime>`: the tape plays the client to a live runtime. Recorded
 * client frames go out with the runtime's fresh identifiers mapped in; what comes back is
 * compared with the recording, per job for concurrent jobs, and event_seq must stay gap-free.
 */
export async function driveReplay(o: DriveOptions): Promise<ReplayReport> {
  if (!o.target && !o.command?.length) throw new ToolError('E_USAGE', 'no runtime to replay against', 'pass --target ws://HOST:PORT or -- <runtime command>');
  const tape = TapeReader.open(o.tape);
  const channels = tape.channels().filter((c) => c.kind !== 'http');
  tape.close();
  if (!channels.length) throw new ToolError('E_INPUT', `${o.tape} has no ARCP channels to replay`, 'record one with `arcp record`');
  const vol = new Volatility(o.volatile);
  const ids = new IdMap();
  const outcome = new Outcome(o.tape, 'client', ids);
  const scripts: ChannelScript[] = [];
  for (const ch of channels) {
    const script = new ChannelScript(o.tape, ch, o.progress);
    scripts.push(script);
    let t: Transport;
    try {
      t = o.command?.length ? spawnStdio(o.command[0], o.command.slice(1)).keepEmptyLines() : await connectWebSocket(o.target!, { skipUTF8Validation: true });
    } catch (e) {
      throw new ToolError('E_CONNECT', `cannot reach ${o.target ?? o.command!.join(' ')}: ${(e as Error).message}`, 'is the runtime running? start one with `arcp serve`');
    }
    const ok = await new ChannelDriver(script, t, vol, ids, outcome, o).run();
    if (!ok && !o.keepGoing) break;
  }
  const report = outcome.report(scripts);
  for (const s of scripts) s.close();
  return report;
}

class ChannelDriver {
  /** Recorded runtime frames not yet seen live, by stream: `session`, or `job:<recorded job id>`. */
  private readonly streams = new Map<string, TapeFrame[]>();
  private readonly pending = new Set<number>();
  /** The same seqs in the (increasing) order they were expected, so the oldest is found without a scan. */
  private readonly pendingOrder: number[] = [];
  private pendingHead = 0;
  /** Live frames that arrived before the recording's cursor reached them. */
  private early: Buffer[] = [];
  private lastEventSeq?: number;
  private matched = 0;
  private closed?: { code?: number };
  private failed = false;
  private wake: () => void = () => undefined;
  private readonly timeoutMs: number;

  constructor(
    private readonly script: ChannelScript,
    private readonly t: Transport,
    private readonly vol: Volatility,
    private readonly ids: IdMap,
    private readonly outcome: Outcome,
    private readonly o: DriveOptions,
  ) {
    this.timeoutMs = o.timeoutMs ?? 10_000;
    t.onFrame((f) => this.onLive(f.data));
    t.onClose((info) => {
      this.closed = { code: info.code };
      this.wake();
    });
  }

  async run(): Promise<boolean> {
    try {
      for (let f = this.script.peek(); f; f = this.script.peek()) {
        if (f.dir === 's2c' && isMessage(f)) {
          // Read ahead of what has arrived by at most LOOKAHEAD frames: memory stays flat on long tapes.
          if (this.pending.size >= LOOKAHEAD) await this.waitUntil(() => this.pending.size < LOOKAHEAD / 2);
          this.script.next();
          if (typeOf(f.data) !== 'session.ping') this.expect(f);
        } else if (f.dir === 'c2s' && isMessage(f)) {
          await this.settle(f.seq);
          this.script.next();
          if (typeOf(f.data) === 'session.pong') continue; // live pings are answered live
          this.sendRecorded(f);
        } else if (f.kind === 'ws.close') {
          await this.settle(f.seq);
          this.script.next();
          const code = closeOf(f).code;
          // stdio has no close frames: the recorded close of either side ends the child's input.
          if (f.dir === 'c2s' || this.t.kind !== 'websocket') this.t.close(code, closeOf(f).reason);
          else await this.awaitClose(f, code);
        } else if (f.kind === 'transport.close' && /terminate/.test(f.data.toString())) {
          await this.settle(f.seq);
          this.script.next();
          this.t.terminate?.();
        } else this.script.next();
      }
      await this.settle(Number.MAX_SAFE_INTEGER);
      await sleep(50);
      if (this.early.length) this.diverge({ reason: 'extra', seq: 0, dir: 's2c', message: `the runtime sent a frame the recording does not have: ${typeOf(this.early[0]) ?? 'not ARCP'}`, actual: clip(this.early[0]), fields: [] });
    } catch (e) {
      if (!(e instanceof Stop)) throw e;
    } finally {
      if (!this.closed) this.t.close();
    }
    return !this.failed;
  }

  private sendRecorded(f: TapeFrame): void {
    const text = f.data.toString('utf8');
    if (text.includes('"token":"[arcp-redacted:')) {
      const token = (parsed(f.data)?.payload as { auth?: { token?: unknown } } | undefined)?.auth?.token;
      if (typeof token === 'string' && PLACEHOLDER.test(token)) {
        if (this.o.token) this.ids.learn(token, this.o.token);
        else this.outcome.note('the recorded bearer token was redacted: pass --token with the real one if the runtime rejects the session');
      }
    }
    this.t.send(this.ids.apply(f.data), { binary: f.kind === 'ws.binary' });
  }

  private keyOfRecorded(f: TapeFrame): string {
    const m = parsed(f.data);
    const job = jobIdOf(m);
    return job ? `job:${job}` : 'session';
  }

  private expect(f: TapeFrame): void {
    const key = this.keyOfRecorded(f);
    const q = this.streams.get(key) ?? [];
    q.push(f);
    this.streams.set(key, q);
    this.pending.add(f.seq);
    this.pendingOrder.push(f.seq);
    if (this.early.length) {
      const early = this.early;
      this.early = [];
      for (const e of early) if (!this.tryMatch(e)) this.early.push(e);
    }
  }

  private onLive(data: Buffer): void {
    if (this.failed && !this.o.keepGoing) return;
    if (typeOf(data) === 'session.ping') {
      this.t.send(pongFor(data));
      this.outcome.note('answered the runtime\'s session.ping live');
      return;
    }
    if (!this.tryMatch(data)) this.early.push(data);
    this.wake();
  }

  /** Matches a live frame with the head of its stream; false when nothing is expected there yet. */
  private tryMatch(data: Buffer): boolean {
    const m = parsed(data);
    const key = this.keyOfLive(m);
    const q = this.streams.get(key);
    const rec = q?.shift();
    if (!rec) return false;
    this.pending.delete(rec.seq);
    this.matched++;
    const cmp = compareFrames(rec.data, data, this.vol, this.ids);
    if (!cmp.ok) {
      this.diverge({ reason: 'mismatch', seq: rec.seq, dir: 's2c', message: cmp.note ?? `the runtime's ${typeOf(data) ?? 'frame'} differs from the recorded ${typeOf(rec.data) ?? 'frame'}`, expected: clip(rec.data), actual: clip(data), fields: cmp.fields }, rec, false);
      return true;
    }
    const seq = m?.event_seq;
    if (typeof seq === 'number') {
      if (this.lastEventSeq !== undefined && seq !== this.lastEventSeq + 1) {
        this.diverge({ reason: 'order', seq: rec.seq, dir: 's2c', message: `event_seq went from ${this.lastEventSeq} to ${seq}: the session's sequence must be gap-free`, actual: clip(data), fields: [{ pointer: '/event_seq', expected: this.lastEventSeq + 1, actual: seq, rule: 'preset: event_seq (checked per session)', tolerated: false }] }, rec, false);
      }
      this.lastEventSeq = seq;
    }
    return true;
  }

  /** A live frame's stream: its job's (mapped back to the recorded id), else `session`. */
  private keyOfLive(m: Record<string, unknown> | undefined): string {
    const job = jobIdOf(m);
    if (!job) return 'session';
    const rec = this.ids.recorded(job);
    if (rec !== undefined) return `job:${rec}`;
    // A job this run has not seen yet: the earliest recorded job not yet mapped whose next frame is of this type.
    let best: { key: string; seq: number } | undefined;
    for (const [key, q] of this.streams) {
      if (!key.startsWith('job:') || !q.length || this.ids.live(key.slice(4)) !== undefined) continue;
      if (typeOf(q[0].data) === m?.type && (!best || q[0].seq < best.seq)) best = { key, seq: q[0].seq };
    }
    return best?.key ?? `job:?${job}`;
  }

  /** Waits until every recorded runtime frame before `seq` has arrived live. */
  private settle(seq: number): Promise<void> {
    return this.waitUntil(() => this.oldestPending() > seq);
  }

  /** Waits for `done`, or reports the oldest recorded frame still missing (runtime closed, or too slow). */
  private async waitUntil(done: () => boolean): Promise<void> {
    // An idle timeout: every frame that arrives and matches starts the wait afresh.
    let end = Date.now() + this.timeoutMs;
    let seen = this.matched;
    for (;;) {
      if (this.failed && !this.o.keepGoing) throw new Stop();
      if (done()) return;
      if (this.matched !== seen) {
        seen = this.matched;
        end = Date.now() + this.timeoutMs;
      }
      const first = this.oldestPending();
      if (this.closed) {
        const f = this.frameOf(first);
        this.diverge({ reason: 'closed', seq: first, dir: 's2c', message: `the runtime closed the connection; the recording has ${f ? describeFrame(f) : 'more'} from it`, fields: [] }, f);
        return;
      }
      if (Date.now() > end) {
        const f = this.frameOf(first);
        this.diverge({ reason: 'missing', seq: first, dir: 's2c', message: `the runtime did not send ${f ? describeFrame(f) : 'the recorded frame'} within ${this.timeoutMs / 1000} s`, expected: f && clip(f.data), actual: this.early[0] && clip(this.early[0]), fields: [] }, f);
        return;
      }
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 50);
      });
    }
  }

  private oldestPending(): number {
    while (this.pendingHead < this.pendingOrder.length && !this.pending.has(this.pendingOrder[this.pendingHead])) this.pendingHead++;
    return this.pendingOrder[this.pendingHead] ?? Infinity;
  }

  private async awaitClose(f: TapeFrame, code?: number): Promise<void> {
    const end = Date.now() + this.timeoutMs;
    while (!this.closed && Date.now() < end) await sleep(10);
    if (!this.closed) this.diverge({ reason: 'missing', seq: f.seq, dir: 's2c', message: `the runtime did not close the connection (recorded code ${code})`, fields: [] }, f);
    else if (code !== undefined && this.closed.code !== undefined && this.closed.code !== code && this.t.kind === 'websocket') {
      this.diverge({ reason: 'mismatch', seq: f.seq, dir: 's2c', message: `the runtime closed with ${this.closed.code}; the recording has ${code}`, fields: [{ pointer: '/code', expected: code, actual: this.closed.code, rule: 'exact', tolerated: false }] }, f);
    }
  }

  private frameOf(seq: number): TapeFrame | undefined {
    for (const q of this.streams.values()) for (const f of q) if (f.seq === seq) return f;
    return undefined;
  }

  private diverge(d: Omit<Divergence, 'channel' | 'context'>, at?: TapeFrame, stop = true): void {
    this.failed = true;
    this.outcome.divergences.push({ ...d, channel: this.script.channel.id, context: at ? this.script.context(at.seq) : [] });
    if (at) this.pending.delete(at.seq);
    if (stop && !this.o.keepGoing) throw new Stop();
  }
}

/** The job a frame belongs to (envelope, or job.accepted's payload). */
function jobIdOf(m: Record<string, unknown> | undefined): string | undefined {
  const id = m?.job_id ?? (m?.payload as { job_id?: unknown } | undefined)?.job_id;
  return typeof id === 'string' ? id : undefined;
}
