import { existsSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { ToolError } from '../errors.js';
import { APPLICATION_ID, ChannelRow, FORMAT_VERSION, FrameRow, TapeMeta } from './format.js';

export interface TapeFrame extends FrameRow {
  data: Buffer;
}

const PAGE = 1024;

export interface FrameQuery {
  fromSeq?: number;
  toSeq?: number;
  channel?: number;
  /** Only these channels (several connections played together). */
  channels?: number[];
}

/** Reads a tape. Frames stream in seq order straight from SQLite, so memory stays flat. */
export class TapeReader {
  readonly meta: TapeMeta;
  private constructor(
    readonly path: string,
    private readonly db: Database.Database,
  ) {
    this.meta = readMeta(path, db);
  }

  static open(path: string): TapeReader {
    if (!existsSync(path)) throw new ToolError('E_INPUT', `no tape at ${path}`, 'check the path; `arcp tape ls` lists tapes in a folder');
    if (statSync(path).isDirectory()) throw new ToolError('E_INPUT', `${path} is a folder, not a tape`, 'name a .tape file');
    let db: Database.Database;
    try {
      db = new Database(path, { fileMustExist: true });
      const appId = db.pragma('application_id', { simple: true }) as number;
      if (appId !== APPLICATION_ID) {
        db.close();
        throw new ToolError('E_TAPE_FOREIGN', `${path} is an SQLite file but not an arcp tape`, 'record one with `arcp record`, or import a capture with `arcp tape import`');
      }
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > FORMAT_VERSION) {
        db.close();
        throw new ToolError('E_TAPE_NEWER', `${path} is tape format ${version}; this arcp reads format ${FORMAT_VERSION} and older`, 'upgrade arcp (npm i -g arcp@latest)');
      }
    } catch (e) {
      throw classify(path, e);
    }
    try {
      return new TapeReader(path, db);
    } catch (e) {
      db.close();
      throw classify(path, e);
    }
  }

  channels(): ChannelRow[] {
    return this.db
      .prepare('SELECT id, kind, label, opened_ms, info FROM channels ORDER BY id')
      .all()
      .map((r) => {
        const row = r as Record<string, unknown>;
        return parseRow(this.path, ChannelRow, { ...row, info: JSON.parse(row.info as string) });
      });
  }

  frameCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM frames').get() as { n: number }).n;
  }

  /** Frames with their bytes, in seq order, streamed a page at a time (whole pages are much cheaper than row steps). */
  *frames(q: FrameQuery = {}): Generator<TapeFrame> {
    const where = ['f.seq > @after', 'f.seq <= @to'];
    if (q.channel !== undefined) where.push('f.channel = @channel');
    if (q.channels) where.push(`f.channel IN (${q.channels.map((c) => Math.trunc(c)).join(',') || 'NULL'})`);
    const stmt = this.db
      .prepare(
        `SELECT f.seq, f.channel, f.dir, f.kind, f.mono_us, f.wall_ms, coalesce(b.hash, ''), f.size, f.flags, f.parts, b.data
         FROM frames f LEFT JOIN blobs b ON b.id = f.blob WHERE ${where.join(' AND ')} ORDER BY f.seq LIMIT ${PAGE}`,
      )
      .raw();
    const params = { after: (q.fromSeq ?? 1) - 1, to: q.toSeq ?? Number.MAX_SAFE_INTEGER, channel: q.channel };
    for (;;) {
      const page = stmt.all(params) as unknown[][];
      for (const r of page) {
        const [seq, channel, dir, kind, mono_us, wall_ms, hash, size, flags, parts, data] = r;
        if (!data) throw new ToolError('E_TAPE_CORRUPT', `${this.path}: the bytes of frame ${seq} are missing`, 'run `arcp tape verify` for the full list');
        yield { ...parseRow(this.path, FrameRow, { seq, channel, dir, kind, mono_us, wall_ms, hash, size, flags, parts: parseParts(this.path, parts) }), data: data as Buffer };
      }
      if (page.length < PAGE) return;
      params.after = page[page.length - 1][0] as number;
    }
  }

  /** Frame rows without their bytes (fast: no blob reads). */
  *rows(q: FrameQuery = {}): Generator<FrameRow> {
    const stmt = this.db.prepare(
      `SELECT f.seq, f.channel, f.dir, f.kind, f.mono_us, f.wall_ms, coalesce(b.hash, '') AS hash, f.size, f.flags, f.parts
       FROM frames f LEFT JOIN blobs b ON b.id = f.blob WHERE f.seq >= ? AND f.seq <= ? ORDER BY f.seq`,
    );
    for (const r of stmt.iterate(q.fromSeq ?? 0, q.toSeq ?? Number.MAX_SAFE_INTEGER) as Iterable<Record<string, unknown>>) {
      yield parseRow(this.path, FrameRow, { ...r, parts: parseParts(this.path, r.parts) });
    }
  }

  /** Each channel's first frame seq. */
  firstSeqs(): Map<number, number> {
    const rows = this.db.prepare('SELECT channel, min(seq) AS seq FROM frames GROUP BY channel').all() as { channel: number; seq: number }[];
    return new Map(rows.map((r) => [r.channel, r.seq]));
  }

  /** Every blob, for verification. */
  *blobs(): Generator<{ hash: string; size: number; data: Buffer }> {
    yield* this.db.prepare('SELECT hash, size, data FROM blobs').iterate() as Iterable<{ hash: string; size: number; data: Buffer }>;
  }

  /** frames whose blob is missing (a truncated or damaged tape). */
  orphanFrames(): number[] {
    return (this.db.prepare('SELECT f.seq FROM frames f LEFT JOIN blobs b ON b.id = f.blob WHERE b.id IS NULL ORDER BY f.seq LIMIT 100').all() as { seq: number }[]).map((r) => r.seq);
  }

  integrity(): string {
    return String(this.db.pragma('quick_check', { simple: true }));
  }

  close(): void {
    this.db.close();
  }
}

function parseParts(path: string, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  try {
    return JSON.parse(String(v));
  } catch {
    throw new ToolError('E_TAPE_CORRUPT', `${path}: a frame's chunk list is not JSON`, 'the file was changed by another program; re-record it or restore a copy');
  }
}

function readMeta(path: string, db: Database.Database): TapeMeta {
  const rows = db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[];
  const obj: Record<string, unknown> = {};
  for (const r of rows) obj[r.key] = JSON.parse(r.value);
  return parseRow(path, TapeMeta, obj);
}

function parseRow<T>(path: string, schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, row: unknown): T {
  const r = schema.safeParse(row);
  if (r.success) return r.data;
  const i = r.error.issues[0];
  throw new ToolError('E_TAPE_CORRUPT', `${path}: a tape row does not fit the format (${i.path.join('.')}: ${i.message})`, 'the file was changed by another program; re-record it or restore a copy');
}

function classify(path: string, e: unknown): Error {
  if (e instanceof ToolError) return e;
  const err = e as { code?: string; message?: string };
  if (err.code === 'SQLITE_NOTADB') return new ToolError('E_TAPE_FOREIGN', `${path} is not an arcp tape (not an SQLite file)`, 'record one with `arcp record`, or import a capture with `arcp tape import --jsonl`');
  if (err.code === 'SQLITE_CORRUPT') return new ToolError('E_TAPE_CORRUPT', `${path} is damaged: ${err.message}`, 'restore a copy; `arcp tape verify` tells what is left');
  return new ToolError('E_TAPE_CORRUPT', `${path} cannot be read as a tape: ${err.message}`, 'check the file; `arcp tape verify` explains');
}
