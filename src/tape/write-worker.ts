import { readlinkSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { Fingerprint, sha256hex } from './fingerprint.js';
import { CHANNEL_KINDS, DIRECTIONS, FLAG, FRAME_KINDS, isBodyKind, LARGE_FRAME, RedactionRules, type ChannelInfo, type FrameKind, type TapeGap, type TapeMeta } from './format.js';
import { releaseReserve, RESERVE_BYTES } from './lock.js';
import { Redactor, scrubCommandLine, summarizeRules } from './redact.js';
import { BatchInsert } from './batch-insert.js';
import { BlobIndex } from './blob-index.js';
import { RecentHashes } from './recent-hashes.js';
import { bodyReading, checkFrame, redactBody, redactEncoded, type BodyMode, type BodyReading } from './frame-check.js';
import { BLOB_COLUMNS, CHANNEL_COLUMNS, CREATE_TAPE, FRAME_COLUMNS } from './sql.js';
import { CHANNEL_OPEN, META_STRIDE, PART, type Closed, type ToWorker } from './write-protocol.js';

/**
 * The tape writer's worker thread: everything the record hot path must not wait on.
 * Per batch: redact, flag, hash, dedupe blobs, one transaction. The frame log's order is
 * the order frames were handed to the writer.
 */
const port = parentPort!;
let db: Database.Database;
let redactor: Redactor;
const fp = new Fingerprint();
const index = new BlobIndex();
const recent = new RecentHashes();
/** Per HTTP channel: how its current response body is to be read (set by its head). */
const bodyMode = new Map<number, BodyMode>();
/** Per HTTP channel, for compressed bodies only: their codings and what they hold (same keys as bodyMode). */
const encodedBody = new Map<number, BodyReading & { split?: boolean }>();
let frames: BatchInsert;
let blobs: BatchInsert;
let channels: BatchInsert;
let seq = 0;
let startWall = 0;

port.on('message', (m: ToWorker) => {
  try {
    if (m.type === 'open') open(m.path, m.meta);
    else if (m.type === 'batch') {
      batch(new Float64Array(m.meta, 0, m.entries * META_STRIDE), Buffer.from(m.data, 0, m.bytes));
      port.postMessage({ type: 'ack', bytes: m.bytes });
    } else if (m.type === 'close') {
      port.postMessage({ type: 'closed', ...finish(m.endedAt) });
    }
  } catch (e) {
    port.postMessage({ type: 'error', message: (e as Error).message, code: (e as NodeJS.ErrnoException).code });
  }
});

/** One batch, one transaction. A batch the disk refuses is rolled back and becomes a gap; recording goes on. */
function batch(meta: Float64Array, data: Buffer): void {
  if (!roomFor(data.length)) {
    lose(meta, gaps.at(-1)!.reason);
    return;
  }
  const mark = { seq, blobs: index.size, unprinted: unprinted.length, spanning: spanningState() };
  try {
    const printable = db.transaction(() => {
      for (const row of unsavedChannels.splice(0)) putChannel(row);
      let off = 0;
      for (let i = 0; i < meta.length; i += META_STRIDE) {
        const len = meta[i + 6];
        if (meta[i + 2] === CHANNEL_OPEN) addChannel(meta[i], meta[i + 1], meta[i + 4], data, off, meta[i + 3], len);
        else addFrame(meta[i], meta[i + 1], meta[i + 2], meta[i + 3], meta[i + 4], meta[i + 5], data, off, len);
        off += len;
      }
      if (gapsUnsaved) saveGaps();
      return endBatch();
    })();
    print(printable);
    gapsUnsaved = false;
    batchChannels = [];
    batchHashes = [];
  } catch (e) {
    if (!isWriteFailure(e)) throw e;
    rollBack(mark);
    const err = e as NodeJS.ErrnoException;
    lose(meta, err.code === 'SQLITE_FULL' ? `disk full (${err.message})` : `${err.code}: ${err.message}`);
  }
}

/** What a row gathering across batches (an import's, a compressed body) held before this batch. */
function spanningState(): { s: Segment; pieces: Buffer[]; parts: number; size: number }[] {
  return [...openSegments.values()].map((s) => ({ s, pieces: [...s.pieces], parts: s.sizes.length, size: s.size }));
}

/**
 * Forgets what the refused batch added, so the log stays hole-free and every blob id names a
 * stored blob. A row gathering across batches goes back to what it held before: its chunks in
 * this batch are lost, and it goes on after the gap.
 */
function rollBack(mark: { seq: number; blobs: number; unprinted: number; spanning: ReturnType<typeof spanningState> }): void {
  seq = mark.seq;
  index.forget(batchHashes, mark.blobs);
  batchHashes = [];
  unprinted.length = mark.unprinted;
  // Channels registered in the refused batch are written with the next one: later frames name them.
  unsavedChannels = batchChannels;
  batchChannels = [];
  openSegments.clear();
  lastSegment = undefined;
  for (const { s, pieces, parts, size } of mark.spanning) {
    Object.assign(s, { pieces, size, run: null });
    s.sizes.length = parts;
    s.monos.length = parts;
    openSegments.set(s.channel, s);
  }
  recent.clear();
  for (const t of [frames, blobs, channels]) t.clear();
}

/**
 * Once the disk has refused a batch, batches are tried again only while the file system has
 * room for them beyond RESERVE_BYTES: that much stays for the gap record and the seal.
 */
function roomFor(bytes: number): boolean {
  if (!gaps.length) return true;
  try {
    const fs = statfsSync(dirname(tapePath));
    return fs.bavail * fs.bsize > RESERVE_BYTES + 2 * bytes;
  } catch {
    return true; // no statfs here: try, and count it as lost if it fails
  }
}

/** The disk (or the file system) refused a write: what recording survives as a gap. */
const isWriteFailure = (e: unknown): boolean => /^SQLITE_(FULL|IOERR|READONLY)/.test((e as NodeJS.ErrnoException).code ?? '');

const gaps: TapeGap[] = [];
let gapsUnsaved = false;
let gapSavedAt = 0;
/** While a gap lasts, its record is rewritten at most this often (each rewrite takes a page of the reserve). */
const GAP_SAVE_MS = 5000;
let reserveReleased = false;
let tapePath = '';

/** Counts a refused batch's frames into the gap at this point of the log, and writes the gap down when it starts (then now and then). */
function lose(meta: Float64Array, reason: string): void {
  let n = 0;
  let bytes = 0;
  let from = Infinity;
  let to = 0;
  const chans = new Set<number>();
  for (let i = 0; i < meta.length; i += META_STRIDE) {
    if (meta[i + 2] === CHANNEL_OPEN) continue;
    n++;
    bytes += meta[i + 6];
    from = Math.min(from, meta[i + 3]);
    to = Math.max(to, meta[i + 3]);
    chans.add(meta[i]);
  }
  if (!n) return;
  // Rows still gathering on these channels (across batches) go on after the gap without its chunks.
  const cut = [...openSegments.values()].filter((s) => chans.has(s.channel)).map((s) => s.seq);
  const last = gaps.at(-1);
  const fresh = !last || last.after_seq !== seq;
  if (fresh) gaps.push({ after_seq: seq, frames: n, bytes, from_mono_us: Math.round(from), to_mono_us: Math.round(to), from_wall_ms: Math.round(startWall + from / 1000), to_wall_ms: Math.round(startWall + to / 1000), channels: [...chans].sort((a, b) => a - b), reason, ...(cut.length ? { cut_rows: cut } : {}) });
  else {
    if (cut.length) last.cut_rows = [...new Set([...(last.cut_rows ?? []), ...cut])];
    last.frames += n;
    last.bytes += bytes;
    last.to_mono_us = Math.round(to);
    last.to_wall_ms = Math.round(startWall + to / 1000);
    last.channels = [...new Set([...last.channels, ...chans])].sort((a, b) => a - b);
  }
  port.postMessage({ type: 'lost', frames: n, bytes, reason, fresh });
  // The lock file's reserve goes back to the disk once, so the gap (and later the seal) can be written.
  if (!reserveReleased) {
    reserveReleased = true;
    releaseReserve(tapePath);
  }
  gapsUnsaved = true;
  if (!fresh && Date.now() - gapSavedAt < GAP_SAVE_MS) return;
  try {
    db.transaction(saveGaps)();
    gapsUnsaved = false;
    gapSavedAt = Date.now();
  } catch (e) {
    if (!isWriteFailure(e)) throw e;
  }
}

function saveGaps(): void {
  db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run('gaps', JSON.stringify(gaps));
}

/**
 * The writer is background work. On Linux, where each thread has its own nice value, the worker
 * runs at nice 10: on busy cores the forwarding thread and the peers it waits on come first,
 * and the worker still gets about a tenth of a core against one busy thread (the writer's
 * backlog limit pauses sources if that is not enough). At nice 0 it took its full share from
 * the proxy's critical path: see bench/README.md. Elsewhere setPriority would renice the
 * whole process, so it is left alone.
 */
const WORKER_NICE = 10;
function lowerPriority(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (tid > 0 && tid !== process.pid) setPriority(tid, WORKER_NICE);
  } catch {
    // not Linux, or not allowed: normal priority
  }
}

function open(path: string, meta: TapeMeta): void {
  lowerPriority();
  tapePath = path;
  db = new Database(path);
  db.pragma('page_size = 16384');
  // WAL in normal locking mode: readers (`arcp tape show` on a live tape) get a snapshot of what
  // is committed. The tape's lock file keeps other writers out.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  // Checkpoint every 256 MiB of WAL (16384 pages of 16 KiB) rather than every 4 MiB: each
  // checkpoint copies the WAL into the file, and most recordings then need only the one at close.
  db.pragma('wal_autocheckpoint = 16384');
  db.exec(CREATE_TAPE);
  // The rules come in full and are stored as a summary: a rule's text is often the secret.
  const rules = RedactionRules.parse(meta.redaction);
  redactor = new Redactor(rules);
  const stored: TapeMeta = { ...meta, redaction: summarizeRules(rules), command_line: scrubCommandLine(meta.command_line, redactor) };
  const put = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
  db.transaction(() => {
    for (const [k, v] of Object.entries(stored)) if (v !== undefined) put.run(k, JSON.stringify(v));
  })();
  startWall = Date.parse(meta.started_at);
  frames = new BatchInsert(db, 'frames', FRAME_COLUMNS);
  blobs = new BatchInsert(db, 'blobs', BLOB_COLUMNS);
  channels = new BatchInsert(db, 'channels', CHANNEL_COLUMNS);
  port.postMessage({ type: 'ready' });
}

/** A channel registered in line: its bytes are the label, then its info as JSON (see CHANNEL_OPEN). */
function addChannel(id: number, kindCode: number, openedMs: number, batch: Buffer, off: number, labelLen: number, len: number): void {
  let info = batch.toString('utf8', off + labelLen, off + len);
  let label = batch.toString('utf8', off, off + labelLen);
  // Headers (WebSocket channels) and URLs with something a rule could match get redacted;
  // the rest (most HTTP exchanges: no query) go in as they came.
  const urls = redactor.active && redactor.mayMatchUrl(info);
  if (urls || (redactor.active && (info.includes('"headers"') || info.includes('"command"')))) {
    const parsed = JSON.parse(info) as ChannelInfo;
    if (parsed.headers) parsed.headers = redactor.headerPairs(parsed.headers).pairs;
    // A wrapped runtime's command line may carry a token (`--token tok=alice`), as the recorder's may.
    if (parsed.command) {
      parsed.command = scrubCommandLine(parsed.command, redactor);
      label = scrubCommandLine(label.split(' '), redactor).join(' ');
    }
    if (urls) {
      for (const k of ['url', 'upstream'] as const) if (parsed[k] !== undefined) parsed[k] = redactor.url(parsed[k]);
      label = redactor.url(label);
    }
    info = JSON.stringify(parsed);
  }
  putChannel([id, CHANNEL_KINDS[kindCode], label, Math.round(openedMs), info]);
}

/** Channel rows of the batch being written, kept in case the disk refuses it. */
let batchChannels: unknown[][] = [];
let unsavedChannels: unknown[][] = [];
function putChannel(row: unknown[]): void {
  batchChannels.push(row);
  channels.add(...row);
}

/** Body chunks of one exchange gathering into one row (one blob, one hash, one insert). */
interface Segment {
  seq: number;
  channel: number;
  dirCode: number;
  kindCode: number;
  mono: number;
  wall: number;
  /** The row's bytes so far, in pieces; chunks that lie back to back in a batch make one piece. */
  pieces: Buffer[];
  /** The piece still growing: a range of one batch buffer. */
  run: Buffer | null;
  runStart: number;
  runEnd: number;
  /** Each chunk's size and time: the row's `parts`. */
  sizes: number[];
  monos: number[];
  size: number;
  /** Opened by an import's explicit `first`: it ends when its row ends, not with the batch. */
  explicit: boolean;
  /** A compressed body to redact: it must be decoded whole, so it stays open until the body ends (up to HOLD_MAX). */
  held: boolean;
}
const SEGMENT_MAX = 1024 * 1024;
/** A compressed body larger than this is stored as it came, in rows as any body (scan still decodes it). */
const HOLD_MAX = 32 * 1024 * 1024;
const openSegments = new Map<number, Segment>();
/** The segment last added to: consecutive chunks of one exchange skip the map lookup. */
let lastSegment: Segment | undefined;
/**
 * Rows written but not yet fingerprinted (seq, channel, dir, kind, hash, five values a row):
 * the fingerprint goes in seq order, and open segments hold seqs back.
 */
let unprinted: (number | string)[] = [];

/** One frame of a batch: its bytes are `batch[off, off + len)`. */
function addFrame(channel: number, dirCode: number, kindCode: number, monoUs: number, wallMs: number, part: number, batch: Buffer, off: number, len: number): void {
  // The common case first, kept cheap: the next chunk of the body row being gathered.
  const seg = lastSegment?.channel === channel ? lastSegment : openSegments.get(channel);
  if (seg && seg.kindCode === kindCode && seg.dirCode === dirCode && (part === PART.next || (part === PART.auto && seg.size < (seg.held ? HOLD_MAX : SEGMENT_MAX)))) {
    if (seg.run === batch && seg.runEnd === off) seg.runEnd += len;
    else {
      endRun(seg);
      seg.run = batch;
      seg.runStart = off;
      seg.runEnd = off + len;
    }
    seg.sizes.push(len);
    seg.monos.push(Math.round(monoUs));
    seg.size += len;
    lastSegment = seg;
    return;
  }
  if (seg) {
    // A held body past HOLD_MAX goes on in rows of its own: none of them can be decoded alone.
    if (seg.held && seg.kindCode === kindCode && seg.dirCode === dirCode) {
      const enc = encodedBody.get(bodyKey(FRAME_KINDS[kindCode], channel));
      if (enc) enc.split = true;
    }
    closeSegment(seg);
  }
  const mono = Math.round(monoUs);
  const wall = Math.round(Number.isNaN(wallMs) ? startWall + monoUs / 1000 : wallMs);
  if (isBodyKind(FRAME_KINDS[kindCode])) {
    const explicit = part === PART.first;
    const enc = redactor.active ? encodedBody.get(bodyKey(FRAME_KINDS[kindCode], channel)) : undefined;
    const held = enc !== undefined && !enc.split;
    lastSegment = { seq: ++seq, channel, dirCode, kindCode, mono, wall, pieces: [], run: batch, runStart: off, runEnd: off + len, sizes: [len], monos: [mono], size: len, explicit, held };
    openSegments.set(channel, lastSegment);
  } else frameRow(++seq, channel, DIRECTIONS[dirCode], kindCode, mono, wall, batch.subarray(off, off + len));
}

function endRun(s: Segment): void {
  if (s.run) s.pieces.push(s.run.subarray(s.runStart, s.runEnd));
  s.run = null;
}

/** A frame of its own: checked (flags, redaction) unless the same bytes came before as the same kind. */
function frameRow(rowSeq: number, channel: number, dir: string, kindCode: number, mono: number, wall: number, raw: Buffer): void {
  const kind = FRAME_KINDS[kindCode];
  const rawHash = recent.sha256(kindCode, raw);
  const seen = index.checked(rawHash, kindCode);
  if (seen) {
    trackBodyMode(kind, channel, seen.mode, raw);
    return writeRow(rowSeq, channel, dir, kind, mono, wall, seen.blob, rawHash, raw.length, seen.flags, null);
  }
  const { data, flags, mode } = checkFrame(redactor, kind, raw);
  trackBodyMode(kind, channel, mode, raw);
  const hash = data === raw ? rawHash : sha256hex(data);
  const blob = store(hash, data, data === raw, kindCode, flags, mode);
  writeRow(rowSeq, channel, dir, kind, mono, wall, blob, hash, data.length, flags, null);
}

/** Request bodies are keyed by the negated channel id, response bodies by the id. */
const bodyKey = (kind: FrameKind, channel: number): number => (kind === 'http.request' || kind === 'http.request.body' ? -channel : channel);

/** An HTTP head sets how its body is read (a compressed one's codings read again from the head: rare, so not cached). */
function trackBodyMode(kind: FrameKind, channel: number, mode: BodyMode | undefined, head: Buffer): void {
  if (kind === 'http.request' || kind === 'http.response') {
    const key = bodyKey(kind, channel);
    bodyMode.set(key, mode ?? 'opaque');
    if (mode === 'encoded') encodedBody.set(key, bodyReading((JSON.parse(head.toString('utf8')) as { headers: [string, string][] }).headers));
    else encodedBody.delete(key);
  } else if (kind === 'transport.close' || kind === 'transport.error') {
    // The exchange is over (its body rows closed before this row): forget its modes, or a
    // long recording's map grows by two entries an exchange.
    bodyMode.delete(channel);
    bodyMode.delete(-channel);
    encodedBody.delete(channel);
    encodedBody.delete(-channel);
  }
}

/** A body row is redacted and flagged as a whole when it closes; a row of bytes seen before in the same mode is not looked at again. */
function closeSegment(s: Segment): void {
  openSegments.delete(s.channel);
  if (lastSegment === s) lastSegment = undefined;
  endRun(s);
  const kind = FRAME_KINDS[s.kindCode];
  const key = bodyKey(kind, s.channel);
  const mode = bodyMode.get(key) ?? 'opaque';
  let data = s.pieces.length === 1 ? s.pieces[0] : Buffer.concat(s.pieces, s.size);
  let hash = recent.sha256(s.kindCode, data);
  const enc = mode === 'encoded' ? encodedBody.get(key) : undefined;
  let flags = mode === 'sse' || enc?.inner === 'sse' ? FLAG.sse : 0;
  const seen = index.checked(hash, s.kindCode);
  const known = seen?.mode === mode;
  if (enc && !known && s.held) {
    const r = redactEncoded(redactor, enc, data, s.sizes);
    if (r) {
      flags |= FLAG.redacted | FLAG.reencoded;
      r.sizes.forEach((n, i) => (s.sizes[i] = n));
      data = r.data;
      hash = sha256hex(data);
    }
  }
  const redacted = known || mode === 'encoded' ? undefined : redactBody(redactor, mode, data, s.sizes);
  if (redacted) {
    flags |= FLAG.redacted;
    redacted.forEach((c, i) => (s.sizes[i] = c.length));
    data = Buffer.concat(redacted);
    hash = sha256hex(data);
  }
  if (s.sizes.some((n) => n >= LARGE_FRAME)) flags |= FLAG.large;
  const blob = known ? seen.blob : store(hash, data, (flags & FLAG.redacted) === 0, s.kindCode, flags, mode);
  writeRow(s.seq, s.channel, DIRECTIONS[s.dirCode], kind, s.mono, s.wall, blob, hash, data.length, flags, s.sizes.length > 1 ? partsJson(s.sizes, s.monos) : null);
}

/** `[[size, mono_us], ...]`, written out directly: rows can have thousands of parts. */
function partsJson(sizes: number[], monos: number[]): string {
  let out = '[';
  for (let i = 0; i < sizes.length; i++) out += (i ? ',[' : '[') + sizes[i] + ',' + monos[i] + ']';
  return out + ']';
}

/** The blob id for these bytes, inserting them the first time. */
/** Hashes of the blobs the batch being written added to the index. */
let batchHashes: string[] = [];
function store(hash: string, data: Buffer, clean: boolean, kindCode: number, flags: number, mode?: BodyMode): number {
  const { blob, added } = index.put(hash, clean, kindCode, flags, mode);
  if (added) {
    blobs.add(blob, hash, data.length, data);
    batchHashes.push(hash);
  }
  return blob;
}

function writeRow(rowSeq: number, channel: number, dir: string, kind: string, mono: number, wall: number, blob: number, hash: string, size: number, flags: number, parts: string | null): void {
  frames.add(rowSeq, channel, dir, kind, mono, wall, blob, size, flags, parts);
  unprinted.push(rowSeq, channel, dir, kind, hash);
}

/**
 * Live segments close with their batch (what kill -9 can lose stays one flush window); an
 * import's stay open until their row ends. Returns the written rows in seq order (offsets into
 * `unprinted`), to be fingerprinted once the transaction commits.
 */
function endBatch(final = false): number[] {
  for (const s of [...openSegments.values()].sort((a, b) => a.seq - b.seq)) {
    if (final || (!s.explicit && !s.held)) closeSegment(s);
    else {
      endRun(s);
      // Its pieces are views into this batch's buffer (up to 8 MiB): keep a copy of its bytes instead.
      s.pieces = [Buffer.concat(s.pieces, s.size)];
    }
  }
  recent.clear();
  channels.flush();
  blobs.flush();
  frames.flush();
  const rows: number[] = [];
  for (let i = 0; i < unprinted.length; i += 5) rows.push(i);
  // Rows arrive in seq order except segments, which close after later rows.
  rows.sort((a, b) => (unprinted[a] as number) - (unprinted[b] as number));
  return rows;
}

/** After the commit: rows below the lowest open segment go into the fingerprint, in seq order. */
function print(rows: number[]): void {
  let held = Infinity;
  for (const s of openSegments.values()) held = Math.min(held, s.seq);
  const kept: (number | string)[] = [];
  for (const i of rows) {
    const r = unprinted;
    if ((r[i] as number) < held) fp.add(r[i + 1] as number, r[i + 2] as string, r[i + 3] as string, r[i + 4] as string);
    else kept.push(r[i], r[i + 1], r[i + 2], r[i + 3], r[i + 4]);
  }
  unprinted = kept;
}

/**
 * Seals the tape: the last rows, end time, fingerprint, frame count, any gaps; then folds the
 * WAL in and leaves WAL mode, so the sealed tape is one file that readers never add to. A disk
 * that refuses any of it is reported, not thrown: what was written stays readable.
 */
function finish(endedAt: string): Closed {
  const problems: string[] = [];
  try {
    print(db.transaction(() => endBatch(true))());
  } catch (e) {
    if (!isWriteFailure(e)) throw e;
    problems.push(`the last body rows could not be written: ${(e as Error).message}`);
  }
  const fingerprint = fp.digest();
  let sealed = true;
  try {
    const put = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    db.transaction(() => {
      put.run('ended_at', JSON.stringify(endedAt));
      put.run('fingerprint', JSON.stringify(fingerprint));
      put.run('frame_count', JSON.stringify(seq));
      if (gaps.length) put.run('gaps', JSON.stringify(gaps));
    })();
  } catch (e) {
    if (!isWriteFailure(e)) throw e;
    sealed = false;
    problems.push(`the tape could not be sealed: ${(e as Error).message}`);
  }
  let walKept = false;
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    if ((db.pragma('journal_mode = DELETE', { simple: true }) as string) !== 'delete') walKept = true;
  } catch {
    walKept = true; // a reader holds a snapshot, or the disk is full: the WAL stays beside the tape
  }
  db.close();
  const lost = gaps.reduce((a, g) => ({ frames: a.frames + g.frames, bytes: a.bytes + g.bytes }), { frames: 0, bytes: 0 });
  return { fingerprint, frames: seq, blobs: index.size, gaps, lost: lost.frames ? { ...lost, reason: gaps[0].reason, recorded: !gapsUnsaved || sealed } : undefined, sealed, walKept, problems };
}
