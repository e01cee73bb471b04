import { APPLICATION_ID, FORMAT_VERSION } from './format.js';

/** The schema of a new tape. No index beyond the primary keys: the writer dedupes blobs from memory and frames name blobs by id. */
export const CREATE_TAPE = `
PRAGMA application_id = ${APPLICATION_ID};
PRAGMA user_version = ${FORMAT_VERSION};
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE blobs (id INTEGER PRIMARY KEY, hash TEXT NOT NULL, size INTEGER NOT NULL, data BLOB NOT NULL);
CREATE TABLE channels (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, label TEXT NOT NULL, opened_ms INTEGER NOT NULL, info TEXT NOT NULL);
CREATE TABLE frames (
  seq INTEGER PRIMARY KEY,
  channel INTEGER NOT NULL,
  dir TEXT NOT NULL,
  kind TEXT NOT NULL,
  mono_us INTEGER NOT NULL,
  wall_ms INTEGER NOT NULL,
  blob INTEGER NOT NULL,
  size INTEGER NOT NULL,
  flags INTEGER NOT NULL DEFAULT 0,
  parts TEXT
);
`;

/** What a reader needs of each table (a file missing one is damaged). */
export const TABLE_COLUMNS = {
  meta: ['key', 'value'],
  blobs: ['id', 'hash', 'size', 'data'],
  channels: ['id', 'kind', 'label', 'opened_ms', 'info'],
  frames: ['seq', 'channel', 'dir', 'kind', 'mono_us', 'wall_ms', 'blob', 'size', 'flags', 'parts'],
} as const;

export type TableName = 'frames' | 'blobs' | 'channels';
export const FRAME_COLUMNS = 10;
export const BLOB_COLUMNS = 4;
export const CHANNEL_COLUMNS = 5;
/** Rows per multi-row INSERT: one statement call per 200 rows instead of 200 calls. */
export const ROWS_PER_INSERT = 200;

export const insertSql = (table: TableName, columns: number, rows: number): string =>
  `INSERT INTO ${table} VALUES ${Array.from({ length: rows }, () => `(${Array(columns).fill('?').join(',')})`).join(',')}`;
