import { existsSync, rmSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { ToolError } from '../errors.js';
import { sha256hex } from './fingerprint.js';
import { APPLICATION_ID, ChannelRow, FORMAT_VERSION, FrameRow, isFrameRow, TapeMeta } from './format.js';
import { liveLock, type TapeLock } from './lock.js';
import { TABLE_COLUMNS } from './sql.js';

export interface TapeFrame extends FrameRow {
  data: Buffer;
}

const PAGE = 1024;
/** Blob ids whose bytes were hashed and found right, by id modulo this: repeated bytes are hashed once, in bounded memory. */
const CHECKED_SLOTS = 4096;
const DAMAGED_HINT = 'the file was changed after recording; `arcp tape verify` lists what is wrong (restore a copy, or re-record)';

export interface FrameQuery {
  fromSeq?: number;
  toSeq?: number;
  channel?: number;
  /** Only these channels (several connections played together). */
  channels?: number[];
}

/**
 * Reads a tape, never changing it: read-only, no checkpoint, and no `-wal`/`-shm` file left
 * behind that was not there before. Frames stream in seq order straight from SQLite (memory
 * stays flat), and every frame's bytes are checked against their sha256 as they are read, so
 * nothing built on the reader serves or exports bytes that are not the recorded ones.
 */
export class TapeReader {
  readonly meta: TapeMeta;
  /** The recorder writing this tape right now, if any: what is read is what it has committed so far. */
  readonly live?: TapeLock;
  private readonly checked = new Float64Array(CHECKED_SLOTS);

  private constructor(
    readonly path: string,
    private readonly db: Database.Database,
    private readonly created: string[],
  ) {
    this.live = liveLock(path);
    checkSchema(path, db);
    this.meta = readMeta(path, db);
  }

  static open(path: string): TapeReader {
    if (!existsSync(path)) throw new ToolError('E_INPUT', `no tape at ${path}`, 'check the path; `arcp tape ls` lists tapes in a folder');
    const st = statSync(path);
    if (st.isDirectory()) throw new ToolError('E_INPUT', `${path} is a folder, not a tape`, 'name a .tape file');
    if (!st.isFile()) throw new ToolError('E_INPUT', `${path} is not a regular file (a pipe, socket or device), so not a tape`, 'name a .tape file');
    if (st.size === 0) throw new ToolError('E_TAPE_CORRUPT', `${path} is empty (0 bytes): not a tape`, 'a recorder that could not write anything leaves such a file; record again');
    // A read-only connection to a WAL-mode file creates -shm (and an empty -wal) when they are
    // missing, and leaves them: note what is there, and take away what this read added.
    const created = ['-wal', '-shm'].map((s) => path + s).filter((p) => !existsSync(p));
    let db: Database.Database | undefined;
    try {
      db = new Database(path, { readonly: true, fileMustExist: true });
      const appId = db.pragma('application_id', { simple: true }) as number;
      if (appId !== APPLICATION_ID) throw new ToolError('E_TAPE_FOREIGN', `${path} is an SQLite file but not an arcp tape`, 'record one with `arcp record`, or import a capture with `arcp tape import`');
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > FORMAT_VERSION) throw new ToolError('E_TAPE_NEWER', `${path} is tape format ${version}; this arcp reads format ${FORMAT_VERSION} and older`, 'upgrade arcp (npm i -g arcp@latest)');
      return new TapeReader(path, db, created);
    } catch (e) {
      db?.close();
      tidy(path, created, liveLock(path) !== undefined);
      throw classify(path, e);
    }
  }

  channels(): ChannelRow[] {
    return this.query(() => this.db.prepare('SELECT id, kind, label, opened_ms, info FROM channels ORDER BY id').all()).map((r) => {
      const row = r as Record<string, unknown>;
      let info: unknown;
      try {
        info = JSON.parse(row.info as string);
      } catch {
        throw new ToolError('E_TAPE_CORRUPT', `${this.path}: channel ${row.id}'s info is not JSON`, DAMAGED_HINT);
      }
      return parseRow(this.path, `channel ${row.id}`, ChannelRow, { ...row, info });
    });
  }

  /** The last frame's seq (0 for none): a tape's length, found without counting. */
  lastSeq(): number {
    return this.query(() => (this.db.prepare('SELECT max(seq) AS n FROM frames').get() as { n: number | null }).n ?? 0);
  }

  frameCount(): number {
    return this.query(() => (this.db.prepare('SELECT count(*) AS n FROM frames').get() as { n: number }).n);
  }

  /**
   * Frames with their bytes, in seq order, streamed a page at a time (whole pages are much
   * cheaper than row steps). Bytes that do not hash to their recorded sha256 stop the read.
   */
  *frames(q: FrameQuery = {}): Generator<TapeFrame> {
    const where = ['f.seq > @after', 'f.seq <= @to'];
    if (q.channel !== undefined) where.push('f.channel = @channel');
    if (q.channels) where.push(`f.channel IN (${q.channels.map((c) => Math.trunc(c)).join(',') || 'NULL'})`);
    const stmt = this.query(() =>
      this.db
        .prepare(
          `SELECT f.seq, f.channel, f.dir, f.kind, f.mono_us, f.wall_ms, b.hash, f.size, f.flags, f.parts, b.data, f.blob
           FROM frames f LEFT JOIN blobs b ON b.id = f.blob WHERE ${where.join(' AND ')} ORDER BY f.seq LIMIT ${PAGE}`,
        )
        .raw(),
    );
    const params = { after: (q.fromSeq ?? 1) - 1, to: q.toSeq ?? Number.MAX_SAFE_INTEGER, channel: q.channel };
    for (;;) {
      const page = this.query(() => stmt.all(params) as unknown[][]);
      for (const r of page) {
        const [seq, channel, dir, kind, mono_us, wall_ms, hash, size, flags, parts, data, blob] = r;
        if (!Buffer.isBuffer(data)) throw new ToolError('E_TAPE_CORRUPT', `${this.path}: frame ${seq} names blob ${blob}, which the tape does not hold`, DAMAGED_HINT);
        this.check(seq as number, blob as number, hash, data);
        const row = { seq, channel, dir, kind, mono_us, wall_ms, hash, size, flags, parts: parseParts(this.path, seq, parts), data };
        if (!isFrameRow(row)) parseRow(this.path, `frame ${seq}`, FrameRow, row); // says what does not fit
        yield row as TapeFrame;
      }
      if (page.length < PAGE) return;
      params.after = page[page.length - 1][0] as number;
    }
  }

  /** The bytes must be the ones the frame names: checked once per blob while it stays in the cache. */
  private check(seq: number, blob: number, hash: unknown, data: Buffer): void {
    const slot = blob % CHECKED_SLOTS;
    if (this.checked[slot] === blob) return;
    if (typeof hash !== 'string' || sha256hex(data) !== hash) {
      throw new ToolError('E_TAPE_CORRUPT', `${this.path}: the bytes of frame ${seq} (blob ${blob}) do not hash to their recorded sha256`, DAMAGED_HINT);
    }
    this.checked[slot] = blob;
  }

  /** Frame rows without their bytes (fast: no blob reads, so no hash check either). */
  *rows(q: FrameQuery = {}): Generator<FrameRow> {
    const stmt = this.query(() =>
      this.db.prepare(
        `SELECT f.seq, f.channel, f.dir, f.kind, f.mono_us, f.wall_ms, b.hash AS hash, f.size, f.flags, f.parts, f.blob
         FROM frames f LEFT JOIN blobs b ON b.id = f.blob WHERE f.seq >= ? AND f.seq <= ? ORDER BY f.seq`,
      ),
    );
    for (const r of this.query(() => stmt.iterate(q.fromSeq ?? 0, q.toSeq ?? Number.MAX_SAFE_INTEGER)) as Iterable<Record<string, unknown>>) {
      if (r.hash === null) throw new ToolError('E_TAPE_CORRUPT', `${this.path}: frame ${r.seq} names blob ${r.blob}, which the tape does not hold`, DAMAGED_HINT);
      const { blob: _blob, ...rest } = r;
      const row = { ...rest, parts: parseParts(this.path, r.seq, r.parts) };
      if (!isFrameRow(row)) parseRow(this.path, `frame ${r.seq}`, FrameRow, row);
      yield row as FrameRow;
    }
  }

  /** Each channel's first frame seq. */
  firstSeqs(): Map<number, number> {
    const rows = this.query(() => this.db.prepare('SELECT channel, min(seq) AS seq FROM frames GROUP BY channel').all()) as { channel: number; seq: number }[];
    return new Map(rows.map((r) => [r.channel, r.seq]));
  }

  /** Every blob, for verification. */
  *blobs(): Generator<{ id: number; hash: string; size: number; data: Buffer }> {
    yield* this.query(() => this.db.prepare('SELECT id, hash, size, data FROM blobs').iterate()) as Iterable<{ id: number; hash: string; size: number; data: Buffer }>;
  }

  /** frames whose blob is missing (a truncated or damaged tape). */
  orphanFrames(): number[] {
    return (this.query(() => this.db.prepare('SELECT f.seq FROM frames f LEFT JOIN blobs b ON b.id = f.blob WHERE b.id IS NULL ORDER BY f.seq LIMIT 100').all()) as { seq: number }[]).map((r) => r.seq);
  }

  integrity(): string {
    return String(this.query(() => this.db.pragma('quick_check', { simple: true })));
  }

  close(): void {
    this.db.close();
    tidy(this.path, this.created, this.live !== undefined);
  }

  /** SQLite failures while reading (a page that is damaged) become one line naming the tape. */
  private query<T>(run: () => T): T {
    try {
      return run();
    } catch (e) {
      throw classify(this.path, e);
    }
  }
}

/** Takes away the -wal/-shm this read made, and (with no writer) an empty pair any reader left. */
function tidy(path: string, created: string[], live: boolean): void {
  removeCreated(created);
  if (!live) removeEmptyWal(path);
}

function removeCreated(paths: string[]): void {
  for (const p of paths) rmSync(p, { force: true });
}

/**
 * An empty WAL and its index, with no writer, hold nothing: readers of a tape sealed in WAL mode
 * (older arcp) make them, and two readers at once could each leave the other's behind.
 */
function removeEmptyWal(path: string): void {
  try {
    if (statSync(`${path}-wal`).size > 0) return;
  } catch {
    return;
  }
  removeCreated([`${path}-wal`, `${path}-shm`]);
}

/** Every table and column a tape of this format has: a file missing one is damaged, and the message says which. */
function checkSchema(path: string, db: Database.Database): void {
  for (const [table, columns] of Object.entries(TABLE_COLUMNS)) {
    const have = new Set((db.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name));
    if (!have.size) throw new ToolError('E_TAPE_CORRUPT', `${path} has no ${table} table: it is not a whole tape`, DAMAGED_HINT);
    const missing = columns.filter((c) => !have.has(c));
    if (missing.length) throw new ToolError('E_TAPE_CORRUPT', `${path}: the ${table} table has no ${missing.join(', ')} column${missing.length > 1 ? 's' : ''}`, DAMAGED_HINT);
  }
}

function parseParts(path: string, seq: unknown, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  try {
    return JSON.parse(String(v));
  } catch {
    throw new ToolError('E_TAPE_CORRUPT', `${path}: frame ${seq}'s chunk list is not JSON`, DAMAGED_HINT);
  }
}

function readMeta(path: string, db: Database.Database): TapeMeta {
  const rows = db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[];
  const obj: Record<string, unknown> = {};
  for (const r of rows) {
    try {
      obj[r.key] = JSON.parse(r.value);
    } catch {
      throw new ToolError('E_TAPE_CORRUPT', `${path}: the tape's ${r.key} (in its meta table) is not JSON`, DAMAGED_HINT);
    }
  }
  return parseRow(path, 'the tape\'s metadata', TapeMeta, obj);
}

type Schema<T> = { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; code: string; message: string }[] } } };

/** A row that does not fit the format, said in the tape's terms: which row, which field, what it holds. */
function parseRow<T>(path: string, what: string, schema: Schema<T>, row: unknown): T {
  const r = schema.safeParse(row);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue.path.map(String).join('.');
  let value: unknown = row;
  for (const k of issue.path) value = (value as Record<PropertyKey, unknown> | undefined)?.[k];
  const shown = value === undefined ? 'missing' : value === null ? 'empty' : `${JSON.stringify(value)?.slice(0, 60)}`;
  throw new ToolError('E_TAPE_CORRUPT', `${path}: ${what} has ${FIELD_WORDS[field] ?? `field ${field}`} ${shown}, which a tape of format ${FORMAT_VERSION} cannot hold`, DAMAGED_HINT);
}

/** Format fields as a user reads them in `arcp tape show` and docs/tape-format.md. */
const FIELD_WORDS: Record<string, string> = {
  seq: 'seq',
  channel: 'channel',
  dir: 'direction',
  kind: 'kind',
  mono_us: 'time (mono_us)',
  wall_ms: 'wall-clock time',
  hash: 'blob hash',
  size: 'size',
  flags: 'flags',
  parts: 'chunk list',
  label: 'label',
  opened_ms: 'opening time',
  info: 'info',
  id: 'id',
};

function classify(path: string, e: unknown): Error {
  if (e instanceof ToolError) return e;
  const err = e as { code?: string; message?: string };
  if (err.code === 'SQLITE_NOTADB') return new ToolError('E_TAPE_FOREIGN', `${path} is not an arcp tape (not an SQLite file)`, 'record one with `arcp record`, or import a capture with `arcp tape import --jsonl`');
  if (err.code === 'SQLITE_CORRUPT') return new ToolError('E_TAPE_CORRUPT', `${path} is damaged: ${err.message}`, 'restore a copy; `arcp tape verify` tells what is left');
  if (err.code === 'SQLITE_BUSY') return new ToolError('E_TAPE_CORRUPT', `${path} is locked by another program`, 'wait for it to finish, or read a copy');
  return new ToolError('E_TAPE_CORRUPT', `${path} cannot be read as a tape: ${err.message}`, 'check the file; `arcp tape verify` explains');
}
