import { decode, type Decoded, type RawFrame } from '../engine/codec.js';
import type { CloseInfo, Transport } from '../engine/transport/transport.js';
import { BaseTransport } from '../engine/transport/transport.js';
import { defaultRules } from '../tape/redact.js';
import { TapeWriter } from '../tape/writer.js';

export type Dir = 'c2s' | 's2c';

/** One frame of a conversation as the suite saw it, with its seq in the check's tape. */
export interface LoggedFrame {
  seq: number;
  conn: string;
  dir: Dir;
  /** ms since the exchange started (monotonic). */
  at: number;
  raw: Buffer;
  decoded: Decoded;
  /** The parsed message when the frame decoded (vendor messages included). */
  msg?: Msg;
  tape?: string;
}

/** A decoded message, loosely typed: checks read what the spec names and verify the rest. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Msg = Record<string, any> & { type: string; payload: Record<string, any> };

export interface ConnLog {
  label: string;
  frames: LoggedFrame[];
  /** When and how the connection ended; `by` is who closed it (`meta` when it died). */
  closed?: { at: number; by: Dir | 'meta'; code?: number; reason?: string; error?: string };
}

/** Everything one check (or one tape) exchanged: its connections in the order they opened. */
export interface Exchange {
  name: string;
  tape?: string;
  conns: ConnLog[];
}

/** Which side the suite plays: as `client` its sends are c2s, as `runtime` they are s2c. */
export type SuiteRole = 'client' | 'runtime';

export function logFrame(log: ConnLog, seq: number, dir: Dir, at: number, raw: Buffer, binary: boolean, tape?: string): LoggedFrame {
  const decoded = decode({ data: raw, binary });
  const f: LoggedFrame = { seq, conn: log.label, dir, at, raw, decoded, tape };
  if (decoded.ok) f.msg = decoded.message as Msg;
  log.frames.push(f);
  return f;
}

/**
 * One check's exchange: every connection the suite opens goes through `attach`, which logs each
 * frame (both ways) and writes it to the check's tape through the ordinary tape writer, so the
 * tape opens with `arcp tape show` and replays with `arcp replay`. Without a path only the log is kept.
 */
export class ExchangeRecorder {
  readonly exchange: Exchange;
  private seq = 0;
  private readonly t0 = performance.now();
  private closing?: Promise<string | undefined>;

  private constructor(
    name: string,
    private readonly writer: TapeWriter | undefined,
    readonly role: SuiteRole,
  ) {
    this.exchange = { name, tape: writer?.path, conns: [] };
  }

  static async create(o: { name: string; path?: string; role: SuiteRole; commandLine: string[] }): Promise<ExchangeRecorder> {
    const writer = o.path ? await TapeWriter.create({ path: o.path, force: true, commandLine: o.commandLine, redaction: defaultRules() }) : undefined;
    return new ExchangeRecorder(o.name, writer, o.role);
  }

  now(): number {
    return performance.now() - this.t0;
  }

  /** Wraps a transport the suite uses; `label` names the connection (A, B, …). */
  attach(t: Transport, label: string, info: { url?: string; command?: string[] } = {}): RecordedTransport {
    const log: ConnLog = { label, frames: [] };
    this.exchange.conns.push(log);
    const kind = t.kind === 'stdio' ? 'stdio' : 'ws';
    const ch = this.writer?.channel(kind, `${this.exchange.name} ${label}`, { ...info, conn: label, scenario: this.exchange.name });
    const frameKind = (binary: boolean) => (kind === 'stdio' ? 'stdio.line' : binary ? 'ws.binary' : 'ws.text');
    const mine: Dir = this.role === 'client' ? 'c2s' : 's2c';
    const theirs: Dir = mine === 'c2s' ? 's2c' : 'c2s';
    if (ch !== undefined) this.writer!.event(ch, 'meta', 'transport.open', { conn: label });
    this.seq += ch !== undefined ? 1 : 0;
    const record = (dir: Dir, data: Buffer, binary: boolean): LoggedFrame => {
      if (ch !== undefined) this.writer!.frame(ch, dir, frameKind(binary), data);
      return logFrame(log, ch !== undefined ? ++this.seq : 0, dir, this.now(), data, binary, this.writer?.path);
    };
    const ended = (by: Dir | 'meta', info: CloseInfo) => {
      if (log.closed) return;
      log.closed = { at: this.now(), by, code: info.code, reason: info.reason, error: info.error };
      if (ch === undefined) return;
      if (kind === 'ws' && by !== 'meta') this.writer!.event(ch, by, 'ws.close', { code: info.code ?? 1005, reason: info.reason ?? '' });
      else this.writer!.event(ch, 'meta', 'transport.close', { code: info.code, reason: info.reason, error: info.error });
      this.seq++;
    };
    return new RecordedTransport(t, record, mine, theirs, ended);
  }

  /** Seals the tape (if any); returns its path. */
  close(): Promise<string | undefined> {
    this.closing ??= this.writer ? this.writer.close().then((s) => s.path) : Promise.resolve(undefined);
    return this.closing;
  }
}

/** A received frame with its log entry. */
export type LoggedRaw = RawFrame & { logged: LoggedFrame };

/** A transport whose traffic is logged and taped on the way through; its frames are LoggedRaw. */
export class RecordedTransport extends BaseTransport {
  readonly kind: Transport['kind'];
  private closedByUs = false;

  constructor(
    readonly inner: Transport,
    private readonly record: (dir: Dir, data: Buffer, binary: boolean) => LoggedFrame,
    private readonly mine: Dir,
    theirs: Dir,
    ended: (by: Dir | 'meta', info: CloseInfo) => void,
  ) {
    super();
    this.kind = inner.kind;
    inner.onFrame((f: RawFrame) => {
      const logged = record(theirs, f.data, f.binary);
      this.emitFrame(Object.assign({ data: f.data, binary: f.binary }, { logged }));
    });
    inner.onClose((info) => {
      // A close we started is ours; a clean close code from the far side is theirs; a drop is the transport's.
      ended(this.closedByUs ? mine : info.error || info.code === 1006 ? 'meta' : theirs, info);
      this.emitClose(info);
    });
  }

  /** Sends and returns the logged frame. */
  sendLogged(data: string | Buffer, opts?: { binary?: boolean }): LoggedFrame {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const logged = this.record(this.mine, buf, opts?.binary ?? false);
    this.inner.send(buf, opts);
    return logged;
  }

  send(data: string | Buffer, opts?: { binary?: boolean }): void {
    this.sendLogged(data, opts);
  }

  close(code?: number, reason?: string): void {
    if (!this.inner.closed) this.closedByUs = true;
    this.inner.close(code, reason);
  }

  /** Drops the connection without a close handshake (a transport drop). */
  terminate(): void {
    if (this.inner.terminate) this.inner.terminate();
    else this.inner.close();
  }
}
