import type { Divergence } from './report.js';
import { parsed } from './frames.js';

type Diverge = (d: Omit<Divergence, 'channel' | 'dir' | 'context'>) => void;

const SEQ = Buffer.from('"event_seq":');
const TYPE = Buffer.from('"type":"session.');
const PING = Buffer.from('ping"');
const WELCOME = Buffer.from('welcome"');

/**
 * Judges a live client's timer-driven frames by their rules instead of by equality with the
 * recording (their values and positions depend on timers):
 * - `session.ack` (§6.5): never goes back, and never beyond the last `event_seq` delivered;
 * - `session.pong` (§6.4): answers a `session.ping` the replay sent within the recorded
 *   session's `heartbeat_interval_sec`.
 */
export class Heartbeats {
  private lastAck?: number;
  private delivered = 0;
  private intervalSec?: number;
  private welcomed = false;
  private readonly pings = new Map<string, { at: number; timer?: NodeJS.Timeout }>();

  constructor(
    private readonly diverge: Diverge,
    private readonly note: (line: string) => void,
  ) {}

  /**
   * Every frame replay sends, as sent: tracks the delivered event_seq, the interval, and pings.
   * On the replay hot path: two short searches near the frame's start, no parse (job events,
   * the bulk of a tape, carry neither a ping nor a welcome).
   */
  sent(data: Buffer): void {
    const i = data.indexOf(SEQ);
    if (i >= 0) {
      let seq = 0;
      for (let k = i + SEQ.length; k < data.length; k++) {
        const d = data[k] - 48;
        if (d < 0 || d > 9) break;
        seq = seq * 10 + d;
      }
      if (seq > this.delivered) this.delivered = seq;
    }
    if (i >= 0 && this.welcomed) return; // an event: neither a ping nor a welcome
    const t = data.indexOf(TYPE);
    if (t < 0) return;
    const at = t + TYPE.length;
    if (!this.welcomed && data.compare(WELCOME, 0, WELCOME.length, at, at + WELCOME.length) === 0) {
      this.welcomed = true;
      const sec = (parsed(data)?.payload as { heartbeat_interval_sec?: unknown } | undefined)?.heartbeat_interval_sec;
      if (typeof sec === 'number' && sec > 0) this.intervalSec = sec;
    } else if (data.compare(PING, 0, PING.length, at, at + PING.length) === 0) this.pinged(data);
  }

  private pinged(data: Buffer): void {
    const nonce = (parsed(data)?.payload as { nonce?: unknown } | undefined)?.nonce;
    if (typeof nonce !== 'string') return;
    const entry: { at: number; timer?: NodeJS.Timeout } = { at: performance.now() };
    if (this.intervalSec !== undefined) {
      const sec = this.intervalSec;
      entry.timer = setTimeout(() => {
        this.pings.delete(nonce);
        this.diverge({ reason: 'missing', seq: 0, message: `the client did not answer session.ping ${nonce} within heartbeat_interval_sec (${sec} s); §6.4: the receiver MUST respond promptly`, fields: [{ pointer: '/payload/ping_nonce', expected: nonce, actual: undefined, rule: 'heartbeat: a pong within heartbeat_interval_sec', tolerated: false }] });
      }, sec * 1000 + 250);
      entry.timer.unref();
    }
    this.pings.set(nonce, entry);
  }

  received(live: Buffer, type: string): void {
    const payload = parsed(live)?.payload as Record<string, unknown> | undefined;
    if (type === 'session.ack') return this.ack(payload?.last_processed_seq);
    if (type !== 'session.pong') return;
    const nonce = payload?.ping_nonce;
    const ping = typeof nonce === 'string' ? this.pings.get(nonce) : undefined;
    if (!ping) {
      this.note('the live client sent a session.pong for no ping the replay sent');
      return;
    }
    clearTimeout(ping.timer);
    this.pings.delete(nonce as string);
    this.note('judged live session.pong frames by their rule (answers a ping within heartbeat_interval_sec)');
  }

  private ack(seq: unknown): void {
    const rule = 'ack: never back, never beyond the last event_seq delivered (§6.5)';
    if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0) {
      this.diverge({ reason: 'mismatch', seq: 0, message: 'the client sent a session.ack without a whole-number last_processed_seq', fields: [{ pointer: '/payload/last_processed_seq', expected: 'a whole number', actual: seq, rule, tolerated: false }] });
      return;
    }
    if (this.lastAck !== undefined && seq < this.lastAck) {
      this.diverge({ reason: 'mismatch', seq: 0, message: `the client's session.ack went back from ${this.lastAck} to ${seq}`, fields: [{ pointer: '/payload/last_processed_seq', expected: `≥ ${this.lastAck}`, actual: seq, rule, tolerated: false }] });
      return;
    }
    if (seq > this.delivered) {
      this.diverge({ reason: 'mismatch', seq: 0, message: `the client acked event_seq ${seq}, but only ${this.delivered} had been delivered`, fields: [{ pointer: '/payload/last_processed_seq', expected: `≤ ${this.delivered}`, actual: seq, rule, tolerated: false }] });
      return;
    }
    this.lastAck = seq;
    this.note('judged live session.ack frames by their rule (never back, never beyond the delivered event_seq)');
  }

  /** The channel is over: pings still unanswered are noted (the client may have closed first). */
  end(clean: boolean): void {
    for (const [nonce, p] of this.pings) {
      clearTimeout(p.timer);
      if (clean) this.note(`session.ping ${nonce} was not answered before the client closed`);
    }
    this.pings.clear();
  }
}
