import { EventEmitter } from 'node:events';
import { existsSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ToolError } from '../errors.js';
import { CHANNEL_KINDS, DIRECTIONS, FORMAT_VERSION, FRAME_KINDS, HASH_ALGORITHM, SPEC_SHA256, SPEC_VERSION, type ChannelInfo, type ChannelKind, type Direction, type FrameKind, type RedactionRules, type TapeMeta } from './format.js';
import { dropLock, lockPath, takeLock } from './lock.js';
import { CHANNEL_OPEN, META_STRIDE, PART, type Closed, type FromWorker, type ToWorker } from './write-protocol.js';
import { TOOL_VERSION, workerUrl } from './paths.js';

export interface TapeWriterOptions {
  path: string;
  commandLine: string[];
  redaction: RedactionRules;
  lineage?: TapeMeta['lineage'];
  /** Replace an existing file. */
  force?: boolean;
  /** The flag that names `path` in the command, for the hints (default --tape; fork's is --out). */
  pathFlag?: string;
  /** How long a frame may wait in memory before it goes to the worker: what kill -9 can lose. */
  flushMs?: number;
  /** How many bytes the worker may fall behind before sources are asked to pause (`congested`). */
  maxBacklogBytes?: number;
  /** Wall-clock start; imports pass the source's. */
  startedAt?: Date;
}

export interface FrameAt {
  monoUs: number;
  wallMs: number;
  /** Body chunks: `first` starts a row, `next` joins the previous chunk's row. */
  part?: 'first' | 'next';
}

export interface TapeSummary extends Omit<Closed, 'gaps'> {
  path: string;
  channels: number;
  bytes: number;
  durationMs: number;
}

/** Frames handed to the writer that the disk refused, so far. */
export interface WriteLoss {
  frames: number;
  bytes: number;
  reason: string;
  /** This batch began a new gap (the previous one succeeded). */
  fresh: boolean;
}

const DIR_CODE = Object.fromEntries(DIRECTIONS.map((d, i) => [d, i])) as Record<Direction, number>;
const KIND_CODE = Object.fromEntries(FRAME_KINDS.map((k, i) => [k, i])) as Record<FrameKind, number>;
const CHANNEL_KIND_CODE = Object.fromEntries(CHANNEL_KINDS.map((k, i) => [k, i])) as Record<ChannelKind, number>;
const MAX_BACKLOG = 64 * 1024 * 1024;
const MAX_BATCH_BYTES = 8 * 1024 * 1024;
const FIRST_BATCH_BYTES = 256 * 1024;
const FIRST_BATCH_FRAMES = 1024;

/**
 * Appends frames to a tape without making the caller wait: `frame()` only queues the bytes.
 * Every `flushMs` (or 8 MiB) the queue moves to a worker thread, which redacts, hashes and
 * writes one transaction. `congested` turns true when the worker falls 64 MiB behind, so
 * channels can pause their sources instead of letting memory grow; `afterDrain()` says when to
 * resume (a quarter of that).
 */
export class TapeWriter extends EventEmitter {
  private readonly worker: Worker;
  /** The batch being filled: frame bytes back to back, and META_STRIDE numbers a frame. */
  private data = Buffer.allocUnsafeSlow(FIRST_BATCH_BYTES);
  private used = 0;
  private meta = new Float64Array(FIRST_BATCH_FRAMES * META_STRIDE);
  private count = 0;
  private inFlight = 0;
  private timer?: NodeJS.Timeout;
  private readonly t0 = performance.now();
  private closing?: Promise<TapeSummary>;
  private failure?: Error;
  private nextChannel = 1;
  frames = 0;
  bytes = 0;
  congested = false;
  /** How many times the worker fell `maxBacklogBytes` behind. */
  congestions = 0;
  /** Frames the disk refused so far (each refused batch is also a `lost` event). */
  lostFrames = 0;

  /** Sources paused for the backlog, resumed on drain. */
  private waiting: (() => void)[] = [];

  private constructor(readonly path: string, private readonly flushMs: number, private readonly maxBacklog: number) {
    super();
    this.worker = new Worker(workerUrl());
    this.worker.on('message', (m: FromWorker) => this.onWorker(m));
    this.worker.on('error', (e) => this.fail(e));
  }

  static async create(o: TapeWriterOptions): Promise<TapeWriter> {
    const folder = dirname(o.path);
    const flag = o.pathFlag ?? '--tape';
    if (!existsSync(folder) || !statSync(folder).isDirectory()) {
      throw new ToolError('E_USAGE', `cannot create tape ${o.path}: the folder ${folder} does not exist`, `create it first (mkdir -p ${folder}), or pick another ${flag} path`);
    }
    const refusal = takeLockOrExplain(o.path, o.commandLine, flag);
    if (refusal) throw refusal;
    if (existsSync(o.path) && !o.force) {
      dropLock(o.path);
      throw new ToolError('E_USAGE', `tape ${o.path} already exists`, `pass another ${flag} path, or --force to replace it`);
    }
    if (o.force) for (const suffix of ['', '-wal', '-shm']) rmSync(o.path + suffix, { force: true });
    const w = new TapeWriter(o.path, o.flushMs ?? 50, o.maxBacklogBytes ?? MAX_BACKLOG);
    const meta: TapeMeta = {
      format_version: FORMAT_VERSION,
      hash_algorithm: HASH_ALGORITHM,
      tool_version: TOOL_VERSION,
      spec_version: SPEC_VERSION,
      spec_sha256: SPEC_SHA256,
      command_line: o.commandLine,
      started_at: (o.startedAt ?? new Date()).toISOString(),
      redaction: o.redaction,
      lineage: o.lineage ?? null,
    };
    const ready = new Promise<void>((resolve, reject) => {
      w.once('ready', resolve);
      w.once('error', reject);
    });
    w.worker.postMessage({ type: 'open', path: o.path, meta });
    try {
      await ready;
    } catch (e) {
      await w.worker.terminate();
      dropLock(o.path);
      throw new ToolError('E_IO', `cannot create tape ${o.path}: ${(e as Error).message}`, 'check that the folder exists and is writable');
    }
    held.add(o.path);
    w.timer = setInterval(() => w.flush(), w.flushMs);
    w.timer.unref();
    return w;
  }

  /** Registers a channel (a WebSocket connection, a stdio pipe pair, an HTTP exchange); returns its id. */
  channel(kind: ChannelKind, label: string, info: ChannelInfo = {}): number {
    const id = this.nextChannel++;
    if (this.closing) return id;
    const text = label + JSON.stringify(info);
    const len = Buffer.byteLength(text, 'utf8');
    this.append(text, len);
    this.entry(id, CHANNEL_KIND_CODE[kind], CHANNEL_OPEN, Buffer.byteLength(label, 'utf8'), Date.now(), 0, len);
    return id;
  }

  get channels(): number {
    return this.nextChannel - 1;
  }

  /**
   * The hot path: remembers the bytes and returns. Never parses, hashes or touches disk.
   * `at` is for imports, which carry their own times and say which body chunks share a row.
   */
  frame(channel: number, dir: Direction, kind: FrameKind, data: Buffer | string, at?: FrameAt): void {
    if (this.closing) return;
    const len = typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.length;
    this.append(data, len);
    this.frames++;
    this.bytes += len;
    this.entry(channel, DIR_CODE[dir], KIND_CODE[kind], at ? at.monoUs : (performance.now() - this.t0) * 1000, at ? at.wallMs : NaN, at?.part ? PART[at.part] : PART.auto, len);
    if (this.used >= MAX_BATCH_BYTES) this.flush();
  }

  /**
   * Body chunks that came in one read, at `arrivedAt` (a `performance.now()`): their bytes are
   * `whole`, copied once; each chunk keeps its own boundary.
   */
  chunks(channel: number, dir: Direction, kind: FrameKind, chunks: Buffer[], whole: Buffer, arrivedAt: number): void {
    if (this.closing) return;
    this.append(whole, whole.length);
    this.frames += chunks.length;
    this.bytes += whole.length;
    const mono = (arrivedAt - this.t0) * 1000;
    for (const c of chunks) this.entry(channel, DIR_CODE[dir], KIND_CODE[kind], mono, NaN, PART.auto, c.length);
    if (this.used >= MAX_BATCH_BYTES) this.flush();
  }

  private append(data: Buffer | string, len: number): void {
    if (this.used + len > this.data.length) this.grow(len);
    if (typeof data === 'string') this.data.write(data, this.used, len, 'utf8');
    else this.data.set(data, this.used); // Buffer#copy builds a view per call; set() does not
    this.used += len;
  }

  private entry(channel: number, dir: number, kind: number, monoUs: number, wallMs: number, part: number, len: number): void {
    if ((this.count + 1) * META_STRIDE > this.meta.length) this.growMeta();
    const m = this.meta;
    const i = this.count++ * META_STRIDE;
    m[i] = channel;
    m[i + 1] = dir;
    m[i + 2] = kind;
    m[i + 3] = monoUs;
    m[i + 4] = wallMs;
    m[i + 5] = part;
    m[i + 6] = len;
  }

  /** Room for `len` more bytes: a full batch goes to the worker, a small one moves to a bigger buffer. */
  private grow(len: number): void {
    if (this.used >= MAX_BATCH_BYTES / 2) this.flush();
    if (this.used + len <= this.data.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(this.data.length * 2, this.used + len));
    bigger.set(this.data.subarray(0, this.used));
    this.data = bigger;
  }

  private growMeta(): void {
    const bigger = new Float64Array(this.meta.length * 2);
    bigger.set(this.meta);
    this.meta = bigger;
  }

  /** A JSON blob for transport events and HTTP heads. */
  event(channel: number, dir: Direction, kind: FrameKind, value: unknown, at?: FrameAt): void {
    this.frame(channel, dir, kind, JSON.stringify(value), at);
  }

  /** Hands the batch to the worker (the buffers move, nothing is copied) and starts a new one sized like it. */
  flush(): void {
    if (this.count === 0) return;
    const { data, meta, used, count } = this;
    const msg: ToWorker = { type: 'batch', entries: count, meta: meta.buffer as ArrayBuffer, data: data.buffer as ArrayBuffer, bytes: used };
    this.worker.postMessage(msg, [msg.meta, msg.data]);
    this.inFlight += used;
    this.data = Buffer.allocUnsafeSlow(Math.max(FIRST_BATCH_BYTES, Math.ceil(Math.min(used * 1.25, MAX_BATCH_BYTES))));
    this.meta = new Float64Array(Math.max(FIRST_BATCH_FRAMES, Math.ceil(count * 1.25)) * META_STRIDE);
    this.used = 0;
    this.count = 0;
    if (this.inFlight > this.maxBacklog && !this.congested) {
      this.congested = true;
      this.congestions++;
    }
  }

  private onWorker(m: FromWorker): void {
    if (m.type === 'ready') this.emit('ready');
    else if (m.type === 'ack') {
      this.inFlight -= m.bytes;
      if (this.congested && this.inFlight < this.maxBacklog / 4) this.drained();
    } else if (m.type === 'lost') {
      this.lostFrames += m.frames;
      this.emit('lost', { frames: m.frames, bytes: m.bytes, reason: m.reason, fresh: m.fresh } satisfies WriteLoss);
    } else if (m.type === 'closed') this.emit('closed', m);
    else if (m.type === 'error') this.fail(new Error(m.message));
  }

  /**
   * Calls `go` once the worker has caught up: at once unless `congested`. A source that finds
   * the writer congested pauses and passes its resume here.
   */
  afterDrain(go: () => void): void {
    if (this.congested) this.waiting.push(go);
    else go();
  }

  private drained(): void {
    this.congested = false;
    for (const go of this.waiting.splice(0)) go();
  }

  private fail(e: Error): void {
    this.failure ??= e;
    // Forwarding goes on without the tape: nothing may stay paused for a writer that stopped.
    if (this.congested) this.drained();
    // 'error' without a listener would throw; the recorder listens, and close() reports it too.
    if (this.listenerCount('error') > 0) this.emit('error', e);
  }

  /** Flushes everything, seals the tape (end time, fingerprint, frame count, checkpoint) and stops the worker. */
  close(): Promise<TapeSummary> {
    this.closing ??= (async () => {
      clearInterval(this.timer);
      this.flush();
      const closed = new Promise<Closed & { type?: string }>((resolve, reject) => {
        this.once('closed', resolve);
        this.worker.once('error', reject);
        this.worker.once('exit', () => reject(this.failure ?? new Error('tape writer stopped')));
        if (this.failure) reject(this.failure);
        else this.on('error', reject);
      });
      this.worker.postMessage({ type: 'close', endedAt: new Date().toISOString() });
      try {
        const { gaps: _gaps, type: _type, ...r } = await closed;
        return { ...r, path: this.path, channels: this.channels, bytes: this.bytes, durationMs: Math.round(performance.now() - this.t0) };
      } catch (e) {
        throw new ToolError('E_IO', `writing tape ${this.path} failed: ${(e as Error).message}`, 'frames before the failure are in the tape; check disk space and permissions');
      } finally {
        await this.worker.terminate();
        release(this.path);
      }
    })();
    return this.closing;
  }
}

/** Locks this process holds: dropped when it exits without closing its writers, so no stale lock names a live PID. */
const held = new Set<string>();
process.once('exit', () => {
  for (const p of held) dropLock(p);
});
function release(path: string): void {
  held.delete(path);
  dropLock(path);
}

/** Takes the tape's lock; a tape another process is writing is refused, naming it (`--force` included). */
function takeLockOrExplain(path: string, command: string[], flag: string): ToolError | undefined {
  let other: ReturnType<typeof takeLock>;
  try {
    other = takeLock(path, command);
  } catch (e) {
    return new ToolError('E_IO', `cannot create tape ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} writing ${lockPath(path)}`, 'check that the folder is writable and has space (a recorder keeps 1 MiB in reserve there)');
  }
  if (!other) return undefined;
  return new ToolError(
    'E_USAGE',
    `tape ${path} is being recorded by PID ${other.pid} (${other.command.slice(0, 3).join(' ')}…, since ${other.started_at}); it cannot be replaced while that runs`,
    `stop that recorder first or pick another ${flag} path; if PID ${other.pid} is not recording, delete ${lockPath(path)}`,
  );
}
