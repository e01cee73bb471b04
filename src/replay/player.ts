import type { Transport } from '../engine/transport/transport.js';
import { describeFrame } from '../tape/inspect.js';
import type { TapeFrame } from '../tape/reader.js';
import { compareFrames } from './compare.js';
import type { Echoes } from './echo.js';
import { fire, type Fault } from './faults.js';
import { closeAsRecorded, closeOf, FLOW, isClose, isMessage, parsed, pongFor, sleep, typeOf } from './frames.js';
import { Heartbeats } from './heartbeats.js';
import type { IdMap } from './ids.js';
import { clip, type Divergence } from './report.js';
import type { ChannelScript } from './script.js';
import type { Volatility } from './volatile.js';

/** Bytes queued towards the live client before the player waits for it. */
const BACKLOG = 4 * 1024 * 1024;

/**
 * Keeps several connections in their recorded order: a runtime frame goes out only once every
 * client frame recorded before it, on any other connection, has been received.
 */
export interface Gate {
  /** The connection (other than `channel`) still short of a frame recorded before `seq`, if any. */
  blocker(channel: number, seq: number): { channel: number; seq: number; opened: boolean } | undefined;
  /** Where a channel's player is: the seq of its next frame, Infinity when done. */
  track(channel: number, cursor: () => number): void;
}

export interface PlayOptions {
  vol: Volatility;
  ids: IdMap;
  echoes: Echoes;
  pace: 'fast' | 'recorded';
  speed: number;
  faults: Fault[];
  /** How long to wait for the live side's next frame. */
  timeoutMs: number;
  /** Record every divergence and go on (`--continue`), rather than stop at the first. */
  keepGoing: boolean;
  gate?: Gate;
  onDivergence(d: Divergence): void;
  note(line: string): void;
  /** The tape could not be read (damaged, altered): the run ends with this error. */
  onTapeError(e: unknown): void;
}

/**
 * Plays the runtime side of one recorded channel to a live client: each frame the client
 * sends is matched against the recorded one, and the runtime frames that followed it go out
 * byte for byte (with echoed client identifiers and values substituted). Heartbeats and acks
 * run on the client's timers, so they are judged by their rules (`Heartbeats`), never waited
 * for or compared with the recorded ones. Resolves when the channel is done.
 */
export class Player {
  readonly done: Promise<void>;
  private finish!: () => void;
  private queue: Buffer[] = [];
  private busy = false;
  private stopped = false;
  private lastMono?: number;
  private owed = 0;
  private waitTimer?: NodeJS.Timeout;
  /** Nonces of recorded pings the live client did not send: their recorded pongs are not sent either. */
  private skippedPings = new Set<string>();
  private readonly beats: Heartbeats;

  constructor(
    private readonly script: ChannelScript,
    private readonly t: Transport,
    private readonly o: PlayOptions,
  ) {
    this.done = new Promise((r) => (this.finish = r));
    this.beats = new Heartbeats((d) => this.diverge(d), o.note);
    o.gate?.track(script.channel.id, () => (this.stopped ? Infinity : (this.script.peek()?.seq ?? Infinity)));
    t.onFrame((f) => {
      this.queue.push(f.data);
      this.guard(this.pump());
    });
    t.onClose((info) => this.guard(this.onClose(info.code)));
    this.guard(this.pump());
  }

  /** Sends what the recording sends next, then matches queued live frames, in order. */
  private async pump(): Promise<void> {
    if (this.busy || this.stopped) return;
    this.busy = true;
    try {
      for (;;) {
        await this.advance();
        if (this.stopped) return;
        const live = this.queue.shift();
        if (!live) break;
        this.match(live);
        if (this.stopped) return;
      }
      this.armTimeout();
    } finally {
      this.busy = false;
    }
  }

  /** Plays recorded runtime frames until the next frame is the client's, in corked batches. */
  private async advance(): Promise<void> {
    this.t.cork?.();
    try {
      await this.advanceCorked();
    } finally {
      this.t.uncork?.();
    }
  }

  private async advanceCorked(): Promise<void> {
    for (let sent = 0; ; ) {
      const f = this.script.peek();
      if (!f || this.stopped) return;
      if (f.dir === 'c2s') {
        if (isMessage(f) && FLOW.has(typeOf(f.data) ?? '')) {
          this.skipRecordedFlow(f);
          continue;
        }
        return; // the client's turn (a message, or its close)
      }
      if (this.o.gate && !(await this.gateOpen(f))) return;
      this.script.next();
      if (isClose(f)) {
        this.closeAsRuntime(f);
        continue;
      }
      if (!isMessage(f)) {
        this.noteExit(f);
        continue;
      }
      if (this.skippedPings.size && this.isReplyToSkipped(f)) continue;
      if (this.o.pace === 'recorded' || this.o.faults.length) await this.pace(f);
      this.send(f);
      if (++sent % 64 === 0) await this.flush();
    }
  }

  /** Waits (bounded) until the other connections' clients have sent what was recorded before `f`. */
  private async gateOpen(f: TapeFrame): Promise<boolean> {
    const gate = this.o.gate!;
    let b = gate.blocker(this.script.channel.id, f.seq);
    if (!b) return true;
    this.t.uncork?.();
    const end = Date.now() + this.o.timeoutMs;
    while (b && !this.stopped && Date.now() < end) {
      await sleep(2);
      b = gate.blocker(this.script.channel.id, f.seq);
    }
    this.t.cork?.();
    if (!b) return !this.stopped;
    const who = b.opened ? `connection ${b.channel}'s client sent nothing for ${this.o.timeoutMs / 1000} s` : `the client did not open connection ${b.channel} within ${this.o.timeoutMs / 1000} s`;
    this.diverge({ reason: 'missing', seq: f.seq, message: `${who}; the recording has its frame ${b.seq} before this connection's frame ${f.seq}`, fields: [] }, f);
    return false;
  }

  /** Writes what is corked, and waits while the live side is behind (so memory stays flat). */
  private async flush(): Promise<void> {
    this.t.uncork?.();
    while ((this.t.buffered ?? 0) > BACKLOG && !this.t.closed) await sleep(1);
    this.t.cork?.();
  }

  /** Waits as the recording did (`--pace recorded`) and as a delay fault says; written frames go out first. */
  private async pace(f: TapeFrame): Promise<void> {
    let wait = 0;
    const delay = fire(this.o.faults, 'delay', f.seq);
    if (delay) {
      this.o.note(`fault: delayed frame ${f.seq} by ${delay.ms} ms`);
      wait += delay.ms;
    }
    if (this.o.pace === 'recorded' && this.lastMono !== undefined) this.owed += Math.max(0, (f.mono_us - this.lastMono) / 1000 / this.o.speed);
    this.lastMono = f.mono_us;
    // Timers count whole milliseconds: sleep those, carry the fraction, so the total time is kept.
    if (this.owed >= 1) {
      const whole = Math.floor(this.owed);
      wait += whole;
      this.owed -= whole;
    }
    if (wait > 0) {
      this.t.uncork?.();
      await sleep(wait);
      this.t.cork?.();
    }
  }

  private send(f: TapeFrame): void {
    let data = this.o.ids.apply(f.data);
    if (this.o.echoes.size) {
      const r = this.o.echoes.apply(data);
      data = r.data;
      for (const p of r.kept) this.o.note(`${typeOf(data) ?? 'frame'} ${p}: kept as recorded (the recorded runtime's own value, or one derived from an echoed one)`);
    }
    this.t.send(data, { binary: f.kind === 'ws.binary' });
    this.beats.sent(data);
    if (fire(this.o.faults, 'duplicate', f.seq)) {
      this.o.note(`fault: sent frame ${f.seq} twice`);
      this.t.send(data, { binary: f.kind === 'ws.binary' });
    }
    this.afterFrame(f);
  }

  private afterFrame(f: TapeFrame): void {
    if (fire(this.o.faults, 'drop', f.seq)) {
      this.o.note(`fault: dropped the connection after frame ${f.seq}`);
      this.stopped = true;
      void this.dropWhenWritten();
    }
  }

  /** Drops the connection once what was sent (that frame included) has left: a drop *after* the frame. */
  private async dropWhenWritten(): Promise<void> {
    this.t.uncork?.();
    const end = Date.now() + 1000;
    while ((this.t.buffered ?? 0) > 0 && !this.t.closed && Date.now() < end) await sleep(1);
    if (this.t.terminate) this.t.terminate();
    else this.t.close();
    this.end(false);
  }

  /** The recorded runtime closed (WebSocket), or ended its output (stdio), here. */
  private closeAsRuntime(f: TapeFrame): void {
    if (f.kind !== 'ws.close') {
      this.o.note(`frame ${f.seq}: the recorded runtime ended its output here`);
      return;
    }
    const note = closeAsRecorded(this.t, f);
    if (note) this.o.note(note);
  }

  /** A stdio runtime's exit code cannot be reproduced by `arcp replay --stdio`, whose own exit is the verdict: say so. */
  private noteExit(f: TapeFrame): void {
    if (f.kind !== 'transport.close' || this.t.kind !== 'stdio' || this.script.channel.kind !== 'stdio') return;
    const { code, reason } = closeOf(f);
    this.o.note(`frame ${f.seq}: the recorded runtime exited (${code ?? reason}); arcp replay --stdio exits with its verdict instead`);
  }

  /** One live frame against the recording. */
  private match(live: Buffer): void {
    clearTimeout(this.waitTimer);
    const liveType = typeOf(live);
    if (liveType && FLOW.has(liveType)) {
      this.answerFlow(live, liveType);
      return;
    }
    const expected = this.script.peek();
    if (!expected || !isMessage(expected) || expected.dir !== 'c2s') {
      this.diverge({ reason: 'extra', seq: expected?.seq ?? 0, message: expected ? `the client sent a frame where the recording has ${describeFrame(expected)}` : 'the client sent a frame after the recording ended', actual: clip(live), fields: [] }, expected);
      return;
    }
    this.script.next();
    this.lastMono = expected.mono_us;
    const cmp = compareFrames(expected.data, live, this.o.vol, this.o.ids, this.o.echoes);
    if (!cmp.ok) {
      this.diverge({ reason: 'mismatch', seq: expected.seq, message: cmp.note ?? `the client's ${liveType ?? 'frame'} differs from the recorded ${typeOf(expected.data) ?? 'frame'}`, expected: clip(expected.data), actual: clip(live), fields: cmp.fields }, expected);
      return;
    }
    this.afterFrame(expected);
  }

  /** A live heartbeat or ack: answered (ping → pong) and judged by its rule, wherever it falls. */
  private answerFlow(live: Buffer, type: string): void {
    if (type === 'session.ping') {
      this.t.send(pongFor(live));
      this.o.note('answered the live client\'s session.ping');
    } else this.beats.received(live, type);
  }

  /** A recorded heartbeat or ack of the client's: timer-driven, so never waited for. */
  private skipRecordedFlow(f: TapeFrame): void {
    this.script.next();
    const m = parsed(f.data);
    const nonce = (m?.payload as { nonce?: unknown } | undefined)?.nonce;
    if (m?.type === 'session.ping' && typeof nonce === 'string') this.skippedPings.add(nonce);
    this.o.note(`recorded client ${m?.type} frames are timer-driven: played past, not waited for`);
  }

  private isReplyToSkipped(f: TapeFrame): boolean {
    const m = parsed(f.data);
    const nonce = (m?.payload as { ping_nonce?: unknown } | undefined)?.ping_nonce;
    return m?.type === 'session.pong' && typeof nonce === 'string' && this.skippedPings.delete(nonce);
  }

  private armTimeout(): void {
    const f = this.script.peek();
    if (!f || this.stopped || f.dir !== 'c2s' || !(isMessage(f) || isClose(f))) return;
    const what = isClose(f) ? 'its close' : describeFrame(f);
    this.waitTimer = setTimeout(() => {
      this.guard(async () => this.diverge({ reason: 'missing', seq: f.seq, message: `the client sent nothing for ${this.o.timeoutMs / 1000} s; the recording has ${what} next`, expected: clip(f.data), fields: [] }, f));
    }, this.o.timeoutMs);
  }

  /** A read of the tape that fails (damaged, or bytes that do not hash to their name) ends the run: nothing more is served. */
  private guard(work: Promise<void> | (() => Promise<void>)): void {
    (typeof work === 'function' ? work() : work).catch((e: unknown) => {
      clearTimeout(this.waitTimer);
      this.stopped = true;
      this.t.close(1011, 'arcp replay: tape error');
      this.o.onTapeError(e);
      this.finish();
    });
  }

  private async onClose(code?: number): Promise<void> {
    if (this.stopped) return;
    while (this.busy) await sleep(1);
    for (let f = this.script.peek(); f && isMessage(f) && f.dir === 'c2s' && FLOW.has(typeOf(f.data) ?? ''); f = this.script.peek()) this.skipRecordedFlow(f);
    const f = this.script.peek();
    if (f && isClose(f) && f.dir === 'c2s') {
      this.script.next();
      const rec = closeOf(f).code;
      if (f.kind === 'ws.close' && rec !== undefined && code !== undefined && rec !== code && this.t.kind === 'websocket') {
        this.diverge({ reason: 'mismatch', seq: f.seq, message: `the client closed with ${code}; the recording has ${rec}`, fields: [{ pointer: '/code', expected: rec, actual: code, rule: 'exact', tolerated: false }] }, f);
        return;
      }
    }
    if (!this.script.finished) {
      const next = this.script.peek()!;
      this.diverge({ reason: 'closed', seq: next.seq, message: `the client closed the connection; the recording goes on with ${describeFrame(next)}`, fields: [] }, next);
      return;
    }
    this.end(true);
  }

  private diverge(d: Omit<Divergence, 'channel' | 'dir' | 'context'>, at?: TapeFrame): void {
    this.o.onDivergence({ ...d, channel: this.script.channel.id, dir: at?.dir ?? 'c2s', context: at ? this.script.context(at.seq) : [] });
    if (this.o.keepGoing && d.reason === 'mismatch') {
      this.guard(this.pump());
      return;
    }
    this.stopped = true;
    this.t.close(1011, 'arcp replay: divergence');
    this.end(false);
  }

  /** `clean`: the channel played to its end, so its trailing transport events count as replayed. */
  private end(clean: boolean): void {
    clearTimeout(this.waitTimer);
    if (clean) this.script.drain();
    this.beats.end(clean);
    this.stopped = true;
    this.finish();
  }
}
