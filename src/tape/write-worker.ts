import { isUtf8 } from 'node:buffer';
import { parentPort } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { Fingerprint, sha256hex } from './fingerprint.js';
import {
  DIRECTIONS,
  FLAG,
  FRAME_KINDS,
  isBodyKind,
  LARGE_FRAME,
  type ChannelInfo,
  type FrameKind,
  type HeaderPairs,
  type TapeMeta,
} from './format.js';
import { Redactor } from './redact.js';
import { BatchInsert } from './batch-insert.js';
import { BLOB_COLUMNS, CREATE_TAPE, FRAME_COLUMNS } from './sql.js';
import { META_STRIDE, PART, type ChannelOp, type ToWorker } from './write-protocol.js';

/**
 * The tape writer's worker thread: everything the record hot path must not wait on.
 * Per batch: redact, flag, hash, dedupe blobs, one transaction. The frame log's order is
 * the order frames were handed to the writer.
 */
const port = parentPort!;
let db: Database.Database;
let redactor: Redactor;
const fp = new Fingerprint();
/** hash → blob id: blobs are deduped from memory, so no index is kept while recording. */
const blobIds = new Map<string, number>();
/** Per HTTP channel: how its current response body is to be read (set by its head). */
const bodyMode = new Map<number, 'sse' | 'json' | 'text' | 'opaque'>();
let frames: BatchInsert;
let blobs: BatchInsert;
let insertChannel: Database.Statement;
let seq = 0;
let startWall = 0;

port.on('message', (m: ToWorker) => {
  try {
    if (m.type === 'open') open(m.path, m.meta);
    else if (m.type === 'batch') {
      db.transaction(() => {
        for (const c of m.channels) addChannel(c);
        const meta = new Float64Array(m.meta);
        const data = Buffer.from(m.data);
        let off = 0;
        for (let i = 0; i < meta.length; i += META_STRIDE) {
          const len = meta[i + 6];
          addFrame(meta[i], meta[i + 1], meta[i + 2], meta[i + 3], meta[i + 4], meta[i + 5], data.subarray(off, off + len));
          off += len;
        }
        endBatch();
      })();
      port.postMessage({ type: 'ack', bytes: m.data.byteLength });
    } else if (m.type === 'close') {
      port.postMessage({ type: 'closed', ...finish(m.endedAt) });
    }
  } catch (e) {
    port.postMessage({ type: 'error', message: (e as Error).message, code: (e as NodeJS.ErrnoException).code });
  }
});

function open(path: string, meta: TapeMeta): void {
  db = new Database(path);
  db.pragma('page_size = 16384');
  // One writer, no readers while recording: the WAL index lives in heap memory, not shared memory.
  db.pragma('locking_mode = EXCLUSIVE');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  // Checkpoint every 64 MiB rather than every 4 MiB: each checkpoint copies the WAL into the file.
  db.pragma('wal_autocheckpoint = 16384');
  db.exec(CREATE_TAPE);
  const put = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
  db.transaction(() => {
    for (const [k, v] of Object.entries(meta)) if (v !== undefined) put.run(k, JSON.stringify(v));
  })();
  startWall = Date.parse(meta.started_at);
  redactor = new Redactor(meta.redaction);
  frames = new BatchInsert(db, 'frames', FRAME_COLUMNS);
  blobs = new BatchInsert(db, 'blobs', BLOB_COLUMNS);
  insertChannel = db.prepare('INSERT INTO channels (id, kind, label, opened_ms, info) VALUES (?, ?, ?, ?, ?)');
  port.postMessage({ type: 'ready' });
}

function addChannel(c: ChannelOp): void {
  const info: ChannelInfo = { ...c.info };
  if (info.headers && redactor.active) info.headers = redactor.headerPairs(info.headers).pairs;
  insertChannel.run(c.id, c.kind, c.label, Math.round(c.openedMs), JSON.stringify(info));
}

/** Body chunks of one exchange gathering into one row (one blob, one hash, one insert). */
interface Segment {
  seq: number;
  channel: number;
  dir: string;
  kind: FrameKind;
  mono: number;
  wall: number;
  chunks: Buffer[];
  parts: [number, number][];
  size: number;
  flags: number;
  /** Opened by an import's explicit `first`: it ends when its row ends, not with the batch. */
  explicit: boolean;
}
const SEGMENT_MAX = 1024 * 1024;
const openSegments = new Map<number, Segment>();
/** Rows written but not yet fingerprinted: the fingerprint goes in seq order, and open segments hold seqs back. */
let unprinted: [number, number, string, string, string][] = [];

function addFrame(channel: number, dirCode: number, kindCode: number, monoUs: number, wallMs: number, part: number, raw: Buffer): void {
  const kind = FRAME_KINDS[kindCode];
  const dir = DIRECTIONS[dirCode];
  const { data, flags } = inspect(channel, kind, raw);
  const mono = Math.round(monoUs);
  const wall = Math.round(Number.isNaN(wallMs) ? startWall + monoUs / 1000 : wallMs);
  const seg = openSegments.get(channel);
  const joins = seg && isBodyKind(kind) && seg.kind === kind && seg.dir === dir && (part === PART.next || (part === PART.auto && seg.size < SEGMENT_MAX));
  if (seg && joins) {
    seg.chunks.push(data);
    seg.parts.push([data.length, mono]);
    seg.size += data.length;
    seg.flags |= flags;
    return;
  }
  if (seg) closeSegment(seg);
  if (isBodyKind(kind)) openSegments.set(channel, { seq: ++seq, channel, dir, kind, mono, wall, chunks: [data], parts: [[data.length, mono]], size: data.length, flags, explicit: part === PART.first });
  else writeRow(++seq, channel, dir, kind, mono, wall, data, flags, null);
}

function closeSegment(s: Segment): void {
  openSegments.delete(s.channel);
  const data = s.chunks.length === 1 ? s.chunks[0] : Buffer.concat(s.chunks, s.size);
  writeRow(s.seq, s.channel, s.dir, s.kind, s.mono, s.wall, data, s.flags, s.parts.length > 1 ? s.parts : null);
}

function writeRow(rowSeq: number, channel: number, dir: string, kind: string, mono: number, wall: number, data: Buffer, flags: number, parts: [number, number][] | null): void {
  const hash = sha256hex(data);
  let blob = blobIds.get(hash);
  if (blob === undefined) {
    blob = blobIds.size + 1;
    blobIds.set(hash, blob);
    blobs.add(blob, hash, data.length, data);
  }
  frames.add(rowSeq, channel, dir, kind, mono, wall, blob, data.length, flags, parts && JSON.stringify(parts));
  unprinted.push([rowSeq, channel, dir, kind, hash]);
}

/**
 * Live segments close with their batch (what kill -9 can lose stays one flush window); an
 * import's stay open until their row ends. Rows below the lowest open segment get fingerprinted.
 */
function endBatch(final = false): void {
  for (const s of [...openSegments.values()].sort((a, b) => a.seq - b.seq)) if (final || !s.explicit) closeSegment(s);
  blobs.flush();
  frames.flush();
  let held = Infinity;
  for (const s of openSegments.values()) held = Math.min(held, s.seq);
  unprinted.sort((a, b) => a[0] - b[0]);
  const ready = unprinted.filter((r) => r[0] < held);
  unprinted = unprinted.filter((r) => r[0] >= held);
  for (const [, channel, dir, kind, hash] of ready) fp.add(channel, dir, kind, hash);
}

/** Flags the frame and applies redaction; returns the bytes to store. */
function inspect(channel: number, kind: FrameKind, raw: Buffer): { data: Buffer; flags: number } {
  let flags = raw.length >= LARGE_FRAME ? FLAG.large : 0;
  if (kind === 'ws.binary') return { data: raw, flags: flags | FLAG.binary };
  if (kind === 'ws.text' || kind === 'stdio.line') {
    if (!isUtf8(raw)) return { data: raw, flags: flags | FLAG.invalidUtf8 };
    const text = raw.toString('utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      flags |= FLAG.notJson;
    }
    return redacted(raw, text, (t) => (parsed === undefined ? redactor.text(t) : redactor.json(t, parsed)), flags);
  }
  if (kind === 'http.request' || kind === 'http.response') return head(channel, kind, raw, flags);
  if (kind === 'http.request.body' || kind === 'http.response.body') {
    const mode = kind === 'http.response.body' ? (bodyMode.get(channel) ?? 'opaque') : (bodyMode.get(-channel) ?? 'opaque');
    if (mode === 'sse') flags |= FLAG.sse;
    if (mode === 'opaque' || !redactor.active || !isUtf8(raw)) return { data: raw, flags };
    const text = raw.toString('utf8');
    if (!redactor.mayMatch(text)) return { data: raw, flags };
    if (mode === 'sse') return redacted(raw, text, (t) => redactor.sse(t), flags);
    if (mode === 'json') {
      try {
        const parsed = JSON.parse(text);
        return redacted(raw, text, (t) => redactor.json(t, parsed), flags);
      } catch {
        // a chunk of a larger body: only the regex rules can apply
      }
    }
    return redacted(raw, text, (t) => redactor.text(t), flags);
  }
  return { data: raw, flags };
}

function redacted(raw: Buffer, text: string, fn: (t: string) => string, flags: number): { data: Buffer; flags: number } {
  if (!redactor.active) return { data: raw, flags };
  const out = fn(text);
  return out === text ? { data: raw, flags } : { data: Buffer.from(out, 'utf8'), flags: flags | FLAG.redacted };
}

function head(channel: number, kind: FrameKind, raw: Buffer, flags: number): { data: Buffer; flags: number } {
  const h = JSON.parse(raw.toString('utf8')) as { headers: HeaderPairs };
  const type = h.headers.find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '';
  const encoded = h.headers.some(([k, v]) => k.toLowerCase() === 'content-encoding' && v !== 'identity');
  const mode = encoded ? 'opaque' : /event-stream/i.test(type) ? 'sse' : /json/i.test(type) ? 'json' : /^text\//i.test(type) ? 'text' : 'opaque';
  // Request bodies are keyed by the negated channel id, so both directions keep their own mode.
  bodyMode.set(kind === 'http.request' ? -channel : channel, mode);
  if (!redactor.active) return { data: raw, flags };
  const r = redactor.headerPairs(h.headers);
  if (!r.changed) return { data: raw, flags };
  return { data: Buffer.from(JSON.stringify({ ...h, headers: r.pairs })), flags: flags | FLAG.redacted };
}

function finish(endedAt: string): { fingerprint: string; frames: number; blobs: number } {
  db.transaction(() => endBatch(true))();
  const fingerprint = fp.digest();
  const put = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
  db.transaction(() => {
    put.run('ended_at', JSON.stringify(endedAt));
    put.run('fingerprint', JSON.stringify(fingerprint));
    put.run('frame_count', JSON.stringify(seq));
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return { fingerprint, frames: seq, blobs: blobIds.size };
}
