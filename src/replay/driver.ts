import { spawnStdio } from '../engine/transport/stdio.js';
import type { Transport } from '../engine/transport/transport.js';
import { connectWebSocket } from '../engine/transport/websocket.js';
import { ToolError } from '../errors.js';
import type { ChannelRow } from '../tape/format.js';
import { describeFrame } from '../tape/inspect.js';
import type { TapeFrame } from '../tape/reader.js';
import { PLACEHOLDER } from '../tape/redact.js';
import { TapeReader } from '../tape/reader.js';
import { ClockShift, describeShift } from './clock-shift.js';
import { compareFrames, learnFrom } from './compare.js';
import { DriveConn } from './drive-conn.js';
import { Echoes } from './echo.js';
import { closeAsRecorded, closeOf, isClose, isMessage, isRecorderClose, parsed, sleep, typeOf } from './frames.js';
import { IdMap } from './ids.js';
import { Outcome } from './outcome.js';
import { clip, type Divergence, type ReplayReport } from './report.js';
import { ChannelScript, type ReplayProgress } from './script.js';
import { Volatility, type VolatileRules } from './volatile.js';

export interface DriveOptions {
  tape: string;
  /** A live runtime's WebSocket URL… */
  target?: string;
  /** …or a runtime command speaking stdio (one child per recorded connection). */
  command?: string[];
  /** The real bearer token, for tapes whose token was redacted. */
  token?: string;
  volatile?: VolatileRules;
  timeoutMs?: number;
  keepGoing?: boolean;
  /** Counts the frames played, for a progress line. */
  progress?: ReplayProgress;
  /** The clock timestamps the recorded client chose are moved to (tests pin it). */
  now?: () => number;
  /** Fork: opens each connection (through a recorder, say) instead of dialling `target` or spawning `command`. */
  connect?: (channel: ChannelRow) => Promise<Transport>;
}

class Stop extends Error {}

/**
 * How far the script reads ahead of what has arrived: a short window while the runtime sends in
 * the recorded order (matched frames die young, which keeps the collector's work small), a long
 * one while live frames wait for recorded ones further on (a runtime that interleaves jobs otherwise).
 */
const LOOKAHEAD = 1024;
const LOOKAHEAD_REORDERED = 10_000;
/** How long a stdio runtime may take to exit on its own before the replay ends its input. */
const EXIT_GRACE_MS = 500;

/**
 * `arcp replay --target | -- <runtime>`: the tape plays the client to a live runtime. Every
 * recorded connection is played at once, in the recorded order across connections: a client
 * frame goes out once every runtime frame recorded before it (on any connection) has arrived, so
 * cross-session flows (subscribe, list_jobs, resume on a new connection) replay as recorded.
 * Recorded client frames go out with the runtime's fresh identifiers and echoed values mapped
 * in, and the client's own timestamps moved to today; what comes back is compared per job
 * (concurrent jobs may interleave differently), and event_seq must stay gap-free per session.
 */
export async function driveReplay(o: DriveOptions): Promise<ReplayReport> {
  if (!o.target && !o.command?.length && !o.connect) throw new ToolError('E_USAGE', 'no runtime to replay against', 'pass --target ws://HOST:PORT or -- <runtime command>');
  const tape = TapeReader.open(o.tape);
  const channels = tape.channels().filter((c) => c.kind !== 'http');
  tape.close();
  if (!channels.length) throw new ToolError('E_INPUT', `${o.tape} has no ARCP channels to replay`, 'record one with `arcp record`');
  const run = new DriveRun(o, channels);
  try {
    await run.play();
  } finally {
    run.closeAll();
  }
  return run.report();
}

/** What `driveUntil` hands over: the open connections, and how to go on sending as the replay would. */
export interface Handover {
  /** The replay up to the fork point: not ok when the runtime diverged before it. */
  report: ReplayReport;
  /** Live connections by recorded channel id. */
  connections: Map<number, Transport>;
  /** A recorded client frame as the replay would send it: learnt identifiers, echoed values and clock shift applied. */
  outgoing(f: TapeFrame): Buffer;
  /** Pairs a recorded identifier with its live value, for frames sent later. */
  learn(recorded: string, live: string): void;
  closeAll(): void;
}

/**
 * Fork (continue): plays and checks every frame before seq `until` as `driveReplay` does, then
 * stops judging and hands the open connections over instead of closing them; a divergence
 * before `until` is in the report.
 */
export async function driveUntil(o: DriveOptions, until: number): Promise<Handover> {
  if (!o.connect) throw new ToolError('E_USAGE', 'driveUntil needs a connect function', 'pass DriveOptions.connect');
  const tape = TapeReader.open(o.tape);
  const channels = tape.channels().filter((c) => c.kind !== 'http');
  tape.close();
  if (!channels.length) throw new ToolError('E_INPUT', `${o.tape} has no ARCP channels to drive`, 'record one with `arcp record`');
  const run = new DriveRun(o, channels, until);
  try {
    await run.play();
  } catch (e) {
    run.closeAll();
    throw e;
  }
  return run.handover();
}

class DriveRun {
  private readonly vol: Volatility;
  private readonly ids = new IdMap();
  private readonly echoes = new Echoes();
  private readonly shift: ClockShift;
  private readonly outcome: Outcome;
  private readonly script: ChannelScript;
  private readonly conns = new Map<number, DriveConn>();
  /** Recorded runtime frames not yet seen live, across connections. */
  private readonly pending = new Map<number, Pending>();
  /** The same seqs in the (increasing) order they were expected, so the oldest is found without a scan. */
  private readonly pendingOrder: number[] = [];
  private pendingHead = 0;
  private matched = 0;
  private failed = false;
  private lateFrames = 0;
  private wake: () => void = () => undefined;
  private readonly timeoutMs: number;

  /** Set once `driveUntil` handed the connections over: live frames are no longer judged. */
  private handedOver = false;

  constructor(
    private readonly o: DriveOptions,
    private readonly channels: ChannelRow[],
    /** Fork: play only the frames before this seq, and judge nothing after it. */
    private readonly until?: number,
  ) {
    this.vol = new Volatility(o.volatile);
    this.shift = new ClockShift(this.echoes, o.now);
    this.outcome = new Outcome(o.tape, 'client', this.ids, [this.echoes, this.shift]);
    this.script = new ChannelScript(o.tape, channels, o.progress);
    this.timeoutMs = o.timeoutMs ?? 10_000;
  }

  async play(): Promise<void> {
    try {
      for (let f = this.script.peek(); f && !(this.until !== undefined && f.seq >= this.until); f = this.script.peek()) {
        if (!this.expectNow(f)) await this.step(f);
      }
      await this.settle(Number.MAX_SAFE_INTEGER);
      if (this.until !== undefined) return; // what comes after the fork point is not judged
      await sleep(50);
      this.judgeExtras();
    } catch (e) {
      if (!(e instanceof Stop)) throw e;
    }
  }

  /**
   * The common step, taken without a promise: a runtime frame on an open connection, with room
   * to read ahead. False when `step` must do it (it may wait).
   */
  private expectNow(f: TapeFrame): boolean {
    if (f.dir !== 's2c' || !isMessage(f) || this.pending.size >= this.lookahead()) return false;
    const c = this.conns.get(f.channel);
    if (!c?.t) return false;
    this.script.next();
    // Each frame is parsed once here (its parse also stands for a live frame of the same bytes).
    const m = parsed(f.data);
    if (m?.type !== 'session.ping') this.expect(c, f, m); // the runtime's pings follow its own timer
    return true;
  }

  private lookahead(): number {
    if (this.pending.size < LOOKAHEAD) return LOOKAHEAD;
    for (const c of this.conns.values()) if (c.early.size) return LOOKAHEAD_REORDERED;
    return LOOKAHEAD;
  }

  private async step(f: TapeFrame): Promise<void> {
    const c = this.conn(f.channel);
    if (f.kind === 'transport.open') {
      this.script.next();
      await this.open(c);
      return;
    }
    if (f.dir === 'meta' && !isTerminate(f) && !isExit(c, f) && !isRecorderClose(f)) {
      this.script.next();
      return;
    }
    await this.open(c);
    if (f.dir === 's2c' && isMessage(f)) {
      // Read ahead of what has arrived by a bounded window: memory stays flat on long tapes.
      if (this.pending.size >= this.lookahead()) await this.waitUntil(() => this.pending.size < this.lookahead() / 2);
      this.expectNow(f);
    } else if (f.dir === 'c2s' && isMessage(f)) {
      await this.settle(f.seq);
      this.script.next();
      if (typeOf(f.data) !== 'session.pong') this.send(c, f); // live pings are answered live
    } else if (isClose(f) && f.dir === 's2c' && c.t!.kind === 'websocket') {
      this.script.next();
      c.expectedClose = f;
      this.addPending(c, f);
    } else if (f.kind === 'transport.close' && f.dir === 's2c') {
      this.script.next(); // a stdio runtime's end of output: its exit, next, is what gets judged
    } else if (isClose(f) || isTerminate(f)) {
      await this.settle(f.seq);
      this.script.next();
      this.closeAsClient(c, f);
    } else {
      // isExit: a stdio runtime's exit.
      await this.settle(f.seq);
      this.script.next();
      await this.awaitExit(c, f);
    }
  }

  private conn(channel: number): DriveConn {
    let c = this.conns.get(channel);
    if (!c) this.conns.set(channel, (c = new DriveConn(this.channels.find((ch) => ch.id === channel)!)));
    return c;
  }

  private async open(c: DriveConn): Promise<void> {
    if (c.t) return;
    let t: Transport;
    try {
      t = this.o.connect ? await this.o.connect(c.channel) : this.o.command?.length ? spawnStdio(this.o.command[0], this.o.command.slice(1)).keepEmptyLines() : await connectWebSocket(this.o.target!, { skipUTF8Validation: true });
    } catch (e) {
      throw new ToolError('E_CONNECT', `cannot reach ${this.o.target ?? this.o.command!.join(' ')}: ${(e as Error).message}`, 'is the runtime running? start one with `arcp serve`');
    }
    c.attach(
      t,
      (conn, data) => this.onLive(conn, data),
      (conn) => this.onClose(conn),
    );
  }

  private send(c: DriveConn, f: TapeFrame): void {
    if (f.data.includes('"token":"[arcp-redacted:')) {
      const token = (parsed(f.data)?.payload as { auth?: { token?: unknown } } | undefined)?.auth?.token;
      if (typeof token === 'string' && PLACEHOLDER.test(token)) {
        if (this.o.token) this.ids.learn(token, this.o.token);
        else this.outcome.note('the recorded bearer token was redacted: pass --token with the real one if the runtime rejects the session');
      }
    }
    c.t!.send(this.outgoing(f), { binary: f.kind === 'ws.binary' });
  }

  /** A recorded client frame as it goes out live: echoes of the live runtime's values first, then the client's own timestamps moved to today, identifiers mapped. */
  private outgoing(f: TapeFrame): Buffer {
    const data = this.echoes.apply(f.data).data;
    return this.ids.apply(this.shift.apply(data, f.wall_ms, (v) => this.echoes.isLive(v)));
  }

  /** The recorded client closed (or vanished, or ended a stdio runtime's input) here. */
  private closeAsClient(c: DriveConn, f: TapeFrame): void {
    c.closedBySelf = true;
    if (isTerminate(f) || (f.kind === 'ws.close' && closeOf(f).code === 1006)) c.vanished = true;
    if (isTerminate(f)) {
      this.outcome.note(`frame ${f.seq}: the recorded client dropped the connection; replay dropped it too`);
      c.t!.terminate?.() ?? c.t!.close();
      return;
    }
    const note = closeAsRecorded(c.t!, f);
    if (note) this.outcome.note(note);
  }

  /** A stdio runtime exited here in the recording: it must exit the same way. */
  private async awaitExit(c: DriveConn, f: TapeFrame): Promise<void> {
    const rec = closeOf(f);
    const end = Date.now() + EXIT_GRACE_MS;
    while (!c.exit && Date.now() < end) await sleep(10);
    if (!c.exit && !c.closedBySelf) {
      // Tapes from before stdio ends were recorded do not say who ended first: end its input.
      this.outcome.note(`frame ${f.seq}: the recorded runtime exited; replay ended its input so it can`);
      c.closedBySelf = true;
      c.t!.close();
    }
    const until = Date.now() + this.timeoutMs;
    while (!c.exit && Date.now() < until) await sleep(10);
    if (!c.exit) return this.diverge({ reason: 'missing', channel: c.channel.id, seq: f.seq, dir: 'meta', message: `the runtime did not exit within ${this.timeoutMs / 1000} s (the recorded one exited with ${rec.code ?? rec.reason})`, fields: [] }, f);
    if (rec.code !== undefined && c.exit.code !== rec.code) {
      this.diverge({ reason: 'mismatch', channel: c.channel.id, seq: f.seq, dir: 'meta', message: `the runtime exited with ${c.exit.code ?? c.exit.reason}; the recorded one exited with ${rec.code}`, fields: [{ pointer: '/code', expected: rec.code, actual: c.exit.code, rule: 'exact', tolerated: false }] }, f);
    }
  }

  private expect(c: DriveConn, f: TapeFrame, m: Record<string, unknown> | undefined): void {
    const key = c.expect(f, m);
    this.addPending(c, f, m);
    c.early.offer(key, this.ids, (e) => this.tryMatch(c, e.data, e.m) !== undefined);
  }

  private addPending(c: DriveConn, f: TapeFrame, m?: Record<string, unknown>): void {
    this.pending.set(f.seq, { conn: c, frame: f, m });
    this.pendingOrder.push(f.seq);
  }

  private onLive(c: DriveConn, data: Buffer): void {
    if (this.handedOver || (this.failed && !this.o.keepGoing)) return;
    const same = this.sameAsNext(c, data);
    const m = same?.m ?? parsed(data);
    if (m?.type === 'session.ping') {
      c.answerPing(data);
      this.outcome.note("answered the runtime's session.ping live");
      return;
    }
    const gap = c.closedBySelf ? undefined : this.seqGap(c, m);
    const rec = this.tryMatch(c, data, m, same?.frame);
    if (!rec) {
      // After the recorded client closed, what the runtime still sends is timing, not behaviour.
      if (c.closedBySelf) this.lateFrames++;
      else c.keepEarly(data, m);
    }
    if (gap) {
      const at = rec ?? this.pending.get(this.oldestPending())?.frame;
      this.diverge({ reason: 'order', channel: c.channel.id, seq: at?.seq ?? 0, dir: 's2c', message: `event_seq went from ${gap.from} to ${gap.to}: the session's sequence must be gap-free`, actual: clip(data), fields: [{ pointer: '/event_seq', expected: gap.from + 1, actual: gap.to, rule: 'preset: event_seq (checked per session)', tolerated: false }] }, rec, false);
    }
    this.wake();
  }

  /** The session's event_seq must go up by one in the order frames arrive (whenever their recorded frame comes up). */
  private seqGap(c: DriveConn, m: Record<string, unknown> | undefined): { from: number; to: number } | undefined {
    const seq = m?.event_seq;
    if (typeof seq !== 'number') return undefined;
    const from = c.lastEventSeq;
    c.lastEventSeq = seq;
    return from !== undefined && seq !== from + 1 ? { from, to: seq } : undefined;
  }

  private onClose(c: DriveConn): void {
    const f = c.expectedClose;
    if (f && this.pending.has(f.seq)) {
      this.pending.delete(f.seq);
      this.matched++;
      const code = closeOf(f).code;
      if (code !== undefined && c.closed?.code !== undefined && c.closed.code !== code) {
        this.diverge({ reason: 'mismatch', channel: c.channel.id, seq: f.seq, dir: 's2c', message: `the runtime closed with ${c.closed.code}; the recording has ${code}`, fields: [{ pointer: '/code', expected: code, actual: c.closed.code, rule: 'exact', tolerated: false }] }, f, false);
      }
    }
    this.wake();
  }

  /**
   * The oldest recorded runtime frame still owed, when it is this connection's and `data` is its
   * very bytes: its parse stands for the live one (equal bytes parse alike), so a runtime that
   * replays as recorded costs one parse a frame, not two.
   */
  private sameAsNext(c: DriveConn, data: Buffer): Pending | undefined {
    const p = this.pending.get(this.oldestPending());
    return p?.conn === c && p.m !== undefined && p.frame.data.equals(data) ? p : undefined;
  }

  /** Matches a live frame with the head of its stream; false when nothing is expected there yet. */
  private tryMatch(c: DriveConn, data: Buffer, m: Record<string, unknown> | undefined, sameBytes?: TapeFrame): TapeFrame | undefined {
    const rec = c.take(m, this.ids);
    if (!rec) return undefined;
    this.pending.delete(rec.seq);
    this.matched++;
    if (rec === sameBytes) {
      learnFrom(m, this.vol, this.ids); // the bytes were compared already: what an exact match teaches
      return rec;
    }
    const cmp = compareFrames(rec.data, data, this.vol, this.ids, this.echoes, m);
    if (!cmp.ok) {
      this.diverge({ reason: 'mismatch', channel: c.channel.id, seq: rec.seq, dir: 's2c', message: cmp.note ?? `the runtime's ${typeOf(data) ?? 'frame'} differs from the recorded ${typeOf(rec.data) ?? 'frame'}`, expected: clip(rec.data), actual: clip(data), fields: cmp.fields }, rec, false);
    }
    return rec;
  }

  /** Waits until every recorded runtime frame before `seq`, on every connection, has arrived live. */
  private settle(seq: number): Promise<void> {
    return this.waitUntil(() => this.oldestPending() > seq);
  }

  /** Waits for `done`, or reports the oldest recorded frame still missing (its connection closed, or too slow). */
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
      const p = this.pending.get(first);
      if (!p) {
        await sleep(10);
        continue;
      }
      const { conn, frame } = p;
      if (conn.closed && conn.closedBySelf) {
        // Recorded after the client's own close: what the runtime still sent then is timing.
        this.pending.delete(first);
        this.lateFrames++;
        continue;
      }
      if (conn.closed) {
        this.diverge({ reason: 'closed', channel: conn.channel.id, seq: first, dir: 's2c', message: `the runtime closed the connection; the recording has ${describeFrame(frame)} from it`, fields: [] }, frame);
        continue;
      }
      if (Date.now() > end) {
        this.diverge({ reason: 'missing', channel: conn.channel.id, seq: first, dir: 's2c', message: `the runtime did not send ${describeFrame(frame)} within ${this.timeoutMs / 1000} s`, expected: clip(frame.data), actual: conn.early.size ? clip(conn.early.first()!.data) : undefined, fields: [] }, frame);
        continue;
      }
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 50);
      });
    }
  }

  private oldestPending(): number {
    while (this.pendingHead < this.pendingOrder.length && !this.pending.has(this.pendingOrder[this.pendingHead])) this.pendingHead++;
    if (this.pendingHead >= 4096) {
      // Seqs already matched go, so a long tape does not keep one number per frame.
      this.pendingOrder.splice(0, this.pendingHead);
      this.pendingHead = 0;
    }
    return this.pendingOrder[this.pendingHead] ?? Infinity;
  }

  /** Live frames no recorded frame accounts for. */
  private judgeExtras(): void {
    for (const c of this.conns.values()) {
      const first = c.early.first();
      if (!first) continue;
      if (c.vanished) {
        this.outcome.note(`connection ${c.channel.id}: ${c.early.size} frame(s) the runtime sent while the recorded client vanished were not judged (timing)`);
        continue;
      }
      this.diverge({ reason: 'extra', channel: c.channel.id, seq: 0, dir: 's2c', message: `the runtime sent a frame the recording does not have: ${typeOf(first.data) ?? 'not ARCP'}`, actual: clip(first.data), fields: [] }, undefined, false);
    }
  }

  private diverge(d: Omit<Divergence, 'context'>, at?: TapeFrame, stop = true): void {
    this.failed = true;
    this.outcome.divergences.push({ ...d, context: at ? this.script.context(at.seq, d.channel) : [] });
    if (at) this.pending.delete(at.seq);
    if (stop && !this.o.keepGoing) throw new Stop();
  }

  closeAll(): void {
    for (const c of this.conns.values()) if (c.t && !c.t.closed) c.t.close();
  }

  handover(): Handover {
    this.handedOver = true;
    const connections = new Map([...this.conns.values()].filter((c) => c.t).map((c) => [c.channel.id, c.t!]));
    return {
      report: this.report(),
      connections,
      outgoing: (f) => this.outgoing(f),
      learn: (recorded, live) => void this.ids.learn(recorded, live),
      closeAll: () => this.closeAll(),
    };
  }

  report(): ReplayReport {
    if (this.lateFrames) this.outcome.note(`${this.lateFrames} frame(s) the runtime sent after the recorded client closed were not judged (timing)`);
    if (this.shift.ms) this.outcome.note(`moved ${this.shift.substitutions.size} timestamp(s) the recorded client chose by ${describeShift(this.shift.ms)} (the time since recording), keeping their offsets`);
    const report = this.outcome.report([this.script]);
    this.script.close();
    return report;
  }
}

/** A recorded runtime frame not yet seen live, with its parse (undefined for closes and frames that are not JSON objects). */
interface Pending {
  conn: DriveConn;
  frame: TapeFrame;
  m?: Record<string, unknown>;
}

/** A stdio runtime's exit ({code, reason}), on a channel recorded over stdio and played to a stdio child. */
const isExit = (c: DriveConn, f: TapeFrame): boolean => f.kind === 'transport.close' && f.dir === 'meta' && c.channel.kind === 'stdio' && c.t?.kind === 'stdio';
const isTerminate = (f: TapeFrame): boolean => f.kind === 'transport.close' && f.dir === 'meta' && /terminate/.test(f.data.toString());
