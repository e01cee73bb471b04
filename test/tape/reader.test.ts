import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { ToolError } from '../../src/errors.js';
import { FORMAT_VERSION } from '../../src/tape/format.js';
import { defaultRules } from '../../src/tape/redact.js';
import { TapeReader } from '../../src/tape/reader.js';
import { TapeWriter } from '../../src/tape/writer.js';
import { damagedCopy, tapeDir } from '../helpers/tape.js';

const path = tapeDir();
let sound = '';
/** 1100 frames (more than one page of the reader's 1024), over three channels; an HTTP response last. */
const N = 1100;
const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

beforeAll(async () => {
  sound = path('sound.tape');
  const w = await TapeWriter.create({ path: sound, commandLine: ['test'], redaction: defaultRules() });
  const chs = [w.channel('ws', 'ws#1', { url: '/a' }), w.channel('ws', 'ws#2'), w.channel('http', 'POST /x')];
  for (let i = 0; i < N - 2; i++) w.frame(chs[i % 2], i % 3 ? 's2c' : 'c2s', 'ws.text', `{"n":${i % 700}}`);
  w.event(chs[2], 's2c', 'http.response', { status: 200, headers: [['content-type', 'text/plain']] });
  w.frame(chs[2], 's2c', 'http.response.body', 'abc');
  await w.close();
});

/** A copy of the sound tape with `sql` run on it. */
const damaged = (name: string, ...sql: string[]): string => damagedCopy(sound, path(name), ...sql);

function withReader<T>(p: string, fn: (t: TapeReader) => T): T {
  const t = TapeReader.open(p);
  try {
    return fn(t);
  } finally {
    t.close();
  }
}

/** The ToolError `fn` throws. */
function toolError(fn: () => unknown): ToolError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ToolError);
    return e as ToolError;
  }
  throw new Error('expected a ToolError');
}

const openError = (p: string) => toolError(() => TapeReader.open(p).close());
const readError = (p: string, fn: (t: TapeReader) => unknown) => toolError(() => withReader(p, fn));

describe('TapeReader: opening', () => {
  it('refuses what is not a tape, each in its own words, and leaves no -wal or -shm behind', () => {
    const dir = path('a-folder');
    mkdirSync(dir);
    const empty = path('empty.tape');
    writeFileSync(empty, '');
    const text = path('text.tape');
    writeFileSync(text, 'hello, this is not a database at all, but it is long enough to look like one to nobody'.repeat(20));
    const foreign = path('foreign.tape');
    new Database(foreign).exec('CREATE TABLE t (x)');
    const newer = damaged('newer.tape', `PRAGMA user_version = ${FORMAT_VERSION + 1}`);
    const cases: [string, string, RegExp, RegExp][] = [
      [path('missing.tape'), 'E_INPUT', /^no tape at .*missing\.tape$/, /arcp tape ls/],
      [dir, 'E_INPUT', /a-folder is a folder, not a tape$/, /name a \.tape file/],
      ['/dev/null', 'E_INPUT', /^\/dev\/null is not a regular file \(a pipe, socket or device\), so not a tape$/, /name a \.tape file/],
      [empty, 'E_TAPE_CORRUPT', /empty\.tape is empty \(0 bytes\): not a tape$/, /record again/],
      [text, 'E_TAPE_FOREIGN', /text\.tape is not an arcp tape \(not an SQLite file\)$/, /--jsonl/],
      [foreign, 'E_TAPE_FOREIGN', /foreign\.tape is an SQLite file but not an arcp tape$/, /arcp tape import/],
      [newer, 'E_TAPE_NEWER', new RegExp(`newer\\.tape is tape format ${FORMAT_VERSION + 1}; this arcp reads format ${FORMAT_VERSION} and older$`), /upgrade arcp/],
    ];
    for (const [p, code, message, hint] of cases) {
      const e = openError(p);
      expect(e.code, p).toBe(code);
      expect(e.message, p).toMatch(message);
      expect(e.hint, p).toMatch(hint);
      expect(existsSync(`${p}-wal`) || existsSync(`${p}-shm`), p).toBe(false);
    }
  });

  it('a tape of the current format and an older one open', () => {
    expect(withReader(sound, (t) => t.meta.format_version)).toBe(FORMAT_VERSION);
    const older = damaged('older.tape', `PRAGMA user_version = ${FORMAT_VERSION - 1}`);
    expect(withReader(older, (t) => t.frameCount())).toBe(N);
  });

  it('a missing table or columns are named', () => {
    expect(openError(damaged('notable.tape', 'DROP TABLE channels')).code).toBe('E_TAPE_CORRUPT');
    expect(openError(damaged('onecol-code.tape', 'ALTER TABLE frames DROP COLUMN flags')).code).toBe('E_TAPE_CORRUPT');
    expect(openError(damaged('notable.tape', 'DROP TABLE channels')).message).toMatch(/notable\.tape has no channels table: it is not a whole tape$/);
    expect(openError(damaged('onecol.tape', 'ALTER TABLE frames DROP COLUMN flags')).message).toMatch(/onecol\.tape: the frames table has no flags column$/);
    expect(openError(damaged('twocols.tape', 'ALTER TABLE blobs RENAME COLUMN size TO sz', 'ALTER TABLE blobs RENAME COLUMN data TO d')).message).toMatch(/twocols\.tape: the blobs table has no size, data columns$/);
    for (const table of ['meta', 'frames']) expect(openError(damaged(`no-${table}.tape`, `DROP TABLE ${table}`)).message).toContain(`has no ${table} table`);
  });

  it('metadata that is not JSON, or does not fit, is named by its key and field', () => {
    const e = openError(damaged('meta-json.tape', "UPDATE meta SET value = '{oops' WHERE key = 'tool_version'"));
    expect(e.code).toBe('E_TAPE_CORRUPT');
    expect(e.message).toMatch(/meta-json\.tape: the tape's tool_version \(in its meta table\) is not JSON$/);
    expect(e.hint).toMatch(/arcp tape verify/);
    expect(openError(damaged('meta-field-code.tape', "UPDATE meta SET value = '7' WHERE key = 'tool_version'")).code).toBe('E_TAPE_CORRUPT');
    expect(openError(damaged('meta-field.tape', "UPDATE meta SET value = '7' WHERE key = 'tool_version'")).message)
      .toMatch(/meta-field\.tape: the tape's metadata has field tool_version 7, which a tape of format 2 cannot hold$/);
    expect(openError(damaged('meta-missing.tape', "DELETE FROM meta WHERE key = 'started_at'")).message).toMatch(/has field started_at missing,/);
    expect(openError(damaged('meta-null.tape', "UPDATE meta SET value = 'null' WHERE key = 'started_at'")).message).toMatch(/has field started_at empty,/);
    // A nested field is named by its path; a long value is cut to 60 characters.
    expect(openError(damaged('meta-nested.tape', `UPDATE meta SET value = '["a",{"k":"${'x'.repeat(80)}"}]' WHERE key = 'command_line'`)).message)
      .toMatch(new RegExp(`has field command_line\\.1 \\{"k":"${'x'.repeat(54)}, which`));
  });
});

describe('TapeReader: reading', () => {
  it('channels with their info; info that is not JSON or a row that does not fit is named', () => {
    const rows = withReader(sound, (t) => t.channels());
    expect(rows.map((c) => [c.id, c.kind, c.label, c.info])).toEqual([[1, 'ws', 'ws#1', { url: '/a' }], [2, 'ws', 'ws#2', {}], [3, 'http', 'POST /x', {}]]);
    expect(typeof rows[0].opened_ms).toBe('number');
    const bad = readError(damaged('info.tape', "UPDATE channels SET info = 'nope' WHERE id = 2"), (t) => t.channels());
    expect(bad.message).toMatch(/info\.tape: channel 2's info is not JSON$/);
    expect(bad.code).toBe('E_TAPE_CORRUPT');
    expect(readError(damaged('kind.tape', "UPDATE channels SET kind = 'tcp' WHERE id = 3"), (t) => t.channels()).message)
      .toMatch(/kind\.tape: channel 3 has kind "tcp", which a tape of format 2 cannot hold$/);
    expect(readError(damaged('opened.tape', "UPDATE channels SET opened_ms = 'x' WHERE id = 1"), (t) => t.channels()).message).toMatch(/channel 1 has opening time "x",/);
  });

  it('frames stream in seq order across pages, with their bytes, and the filters pick seqs and channels', () => {
    withReader(sound, (t) => {
      const all = [...t.frames()];
      expect(all.map((f) => f.seq)).toEqual(Array.from({ length: N }, (_v, i) => i + 1));
      expect(all[0]).toMatchObject({ seq: 1, channel: 1, dir: 'c2s', kind: 'ws.text', flags: 0, parts: null, hash: sha('{"n":0}'), size: 7 });
      expect(all[0].data.toString()).toBe('{"n":0}');
      expect(all[1029].data.toString()).toBe('{"n":329}');
      for (const f of all) expect(f.hash).toBe(sha(f.data));
      expect(t.frameCount()).toBe(N);
      expect([...t.frames({ fromSeq: 1024, toSeq: 1026 })].map((f) => f.seq)).toEqual([1024, 1025, 1026]);
      expect([...t.frames({ fromSeq: N })].map((f) => f.seq)).toEqual([N]);
      expect([...t.frames({ toSeq: 2 })].map((f) => f.seq)).toEqual([1, 2]);
      expect([...t.frames({ channel: 2, toSeq: 6 })].map((f) => f.seq)).toEqual([2, 4, 6]);
      expect([...t.frames({ channels: [3] })].map((f) => f.seq)).toEqual([N - 1, N]);
      expect([...t.frames({ channels: [2, 3], fromSeq: N - 3 })].map((f) => f.seq)).toEqual([N - 2, N - 1, N]);
      expect([...t.frames({ channels: [] })]).toEqual([]);
      expect([...t.frames({ channel: 1 })]).toHaveLength((N - 2) / 2);
    });
  });

  it('rows are the frames without bytes, filtered the same way; firstSeqs, blobs, integrity', () => {
    withReader(sound, (t) => {
      const frames = [...t.frames()].map(({ data: _d, ...row }) => row);
      expect([...t.rows()]).toEqual(frames);
      expect([...t.rows({ fromSeq: 3, toSeq: 4 })].map((r) => r.seq)).toEqual([3, 4]);
      expect([...t.rows({ fromSeq: N })].map((r) => r.seq)).toEqual([N]);
      expect(Object.keys([...t.rows({ toSeq: 1 })][0]).sort()).toEqual(['channel', 'dir', 'flags', 'hash', 'kind', 'mono_us', 'parts', 'seq', 'size', 'wall_ms']);
      expect(t.firstSeqs()).toEqual(new Map([[1, 1], [2, 2], [3, N - 1]]));
      const blobs = [...t.blobs()];
      expect(blobs).toHaveLength(702);
      for (const b of blobs) expect(b.hash).toBe(sha(b.data));
      expect(t.orphanFrames()).toEqual([]);
      expect(t.integrity()).toBe('ok');
      expect(t.live).toBeUndefined();
    });
  });

  it('bytes that do not hash to their name stop the read at that frame, even when the blob was read before', () => {
    const p = damaged('flipped.tape', `UPDATE blobs SET data = CAST('{"n":9}' AS BLOB) WHERE hash = '${sha('{"n":5}')}'`);
    const seen: number[] = [];
    const e = readError(p, (t) => {
      for (const f of t.frames()) seen.push(f.seq);
    });
    expect(e.message).toMatch(/flipped\.tape: the bytes of frame 6 \(blob \d+\) do not hash to their recorded sha256$/);
    expect(e.code).toBe('E_TAPE_CORRUPT');
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    // A blob read once is not hashed again, but a later frame naming a bad blob still stops the read.
    const late = damaged('flipped-late.tape', `UPDATE blobs SET data = CAST('{"n":8}' AS BLOB) WHERE hash = '${sha('{"n":699}')}'`);
    expect(readError(late, (t) => [...t.frames({ fromSeq: 600 })]).message).toMatch(/the bytes of frame 700 /);
    const hashless = damaged('hashless.tape', `UPDATE blobs SET hash = 7 WHERE hash = '${sha('{"n":1}')}'`);
    expect(readError(hashless, (t) => [...t.frames()]).message).toMatch(/the bytes of frame 2 /);
  });

  it('a frame naming a missing blob, a chunk list that is not JSON, a row that does not fit: named by frame', () => {
    const orphan = damaged('orphan.tape', `DELETE FROM blobs WHERE hash = '${sha('{"n":2}')}'`);
    for (const read of [(t: TapeReader) => [...t.frames()], (t: TapeReader) => [...t.rows()]]) {
      const e = readError(orphan, read);
      expect(e.message).toMatch(/orphan\.tape: frame 3 names blob \d+, which the tape does not hold$/);
      expect([e.code, e.hint]).toEqual(['E_TAPE_CORRUPT', expect.stringMatching(/arcp tape verify/)]);
    }
    expect(withReader(orphan, (t) => t.orphanFrames())).toEqual([3, 703]);
    const parts = damaged('parts.tape', "UPDATE frames SET parts = '[[1,' WHERE seq = 4");
    for (const read of [(t: TapeReader) => [...t.frames()], (t: TapeReader) => [...t.rows()]]) {
      const e = readError(parts, read);
      expect(e.message).toMatch(/parts\.tape: frame 4's chunk list is not JSON$/);
      expect(e.code).toBe('E_TAPE_CORRUPT');
    }
    const shape = damaged('shape.tape', `UPDATE frames SET parts = '{"a":1}' WHERE seq = 4`, "UPDATE frames SET dir = 'up' WHERE seq = 8");
    expect(readError(shape, (t) => [...t.frames()]).code).toBe('E_TAPE_CORRUPT');
    expect(readError(shape, (t) => [...t.frames()]).message).toMatch(/shape\.tape: frame 4 has chunk list \{"a":1\}, which a tape of format 2 cannot hold$/);
    expect(readError(shape, (t) => [...t.rows({ fromSeq: 5 })]).message).toMatch(/shape\.tape: frame 8 has direction "up",/);
    const good = damaged('good-parts.tape', "UPDATE frames SET parts = '[[3,1],[4,2]]' WHERE seq = 4");
    expect(withReader(good, (t) => [...t.frames({ fromSeq: 4, toSeq: 4 })][0].parts)).toEqual([[3, 1], [4, 2]]);
    expect(withReader(good, (t) => [...t.rows({ fromSeq: 4, toSeq: 4 })][0].parts)).toEqual([[3, 1], [4, 2]]);
  });

  it('orphanFrames lists at most a hundred', () => {
    const p = damaged('orphans.tape', 'UPDATE frames SET blob = 9999 WHERE seq <= 150');
    const list = withReader(p, (t) => t.orphanFrames());
    expect(list).toEqual(Array.from({ length: 100 }, (_v, i) => i + 1));
  });

  it('a damaged page is one line naming the tape', () => {
    const p = damaged('page.tape');
    const db = new Database(p, { readonly: true });
    const root = (db.prepare("SELECT rootpage FROM sqlite_schema WHERE name = 'channels'").get() as { rootpage: number }).rootpage;
    const size = db.pragma('page_size', { simple: true }) as number;
    db.close();
    const bytes = readFileSync(p);
    bytes[(root - 1) * size] = 0x7f; // not a b-tree page type
    writeFileSync(p, bytes);
    const e = readError(p, (t) => t.channels());
    expect(e.code).toBe('E_TAPE_CORRUPT');
    expect(e.message).toMatch(/page\.tape is damaged: database disk image is malformed$/);
    expect(e.hint).toMatch(/restore a copy/);
  });
});

describe('TapeReader: every field of a row that does not fit is named in the format\'s words', () => {
  it.each([
    ['seq', 'UPDATE frames SET seq = 0 WHERE seq = 1', 'frame 0 has seq 0,'],
    ['channel', 'UPDATE frames SET channel = 0 WHERE seq = 1', 'frame 1 has channel 0,'],
    ['mono_us', 'UPDATE frames SET mono_us = -1 WHERE seq = 1', 'frame 1 has time (mono_us) -1,'],
    ['wall_ms', 'UPDATE frames SET wall_ms = 1.5 WHERE seq = 1', 'frame 1 has wall-clock time 1.5,'],
    ['hash', "UPDATE blobs SET hash = 'abc' WHERE id = 1", 'frame 1 has blob hash "abc",'],
    ['size', 'UPDATE frames SET size = -1 WHERE seq = 1', 'frame 1 has size -1,'],
    ['flags', 'UPDATE frames SET flags = -1 WHERE seq = 1', 'frame 1 has flags -1,'],
    ['kind', "UPDATE frames SET kind = 'x' WHERE seq = 1", 'frame 1 has kind "x",'],
  ])('%s', (_field, sql, words) => {
    const e = readError(damaged(`field-${_field}.tape`, sql), (t) => [...t.rows()]);
    expect(e.message).toContain(`: ${words} which a tape of format ${FORMAT_VERSION} cannot hold`);
  });

  it.each([
    ['id', 'UPDATE channels SET id = 0 WHERE id = 1', 'channel 0 has id 0,'],
    ['label', "UPDATE channels SET label = X'00' WHERE id = 1", 'channel 1 has label {"type":"Buffer","data":[0]},'],
    ['info', "UPDATE channels SET info = '5' WHERE id = 1", 'channel 1 has info 5,'],
  ])('channel %s', (_field, sql, words) => {
    expect(readError(damaged(`channel-${_field}.tape`, sql), (t) => t.channels()).message).toContain(`: ${words} which`);
  });
});

describe('TapeReader: SQLite failures are one line naming the tape', () => {
  it('a table that cannot be read', () => {
    const p = damaged('view.tape', 'ALTER TABLE channels RENAME TO ch0', 'CREATE VIEW channels AS SELECT * FROM ch0', 'DROP TABLE ch0');
    const e = openError(p);
    expect(e.code).toBe('E_TAPE_CORRUPT');
    expect(e.message).toMatch(/view\.tape cannot be read as a tape: no such table: main\.ch0$/);
    expect(e.hint).toMatch(/check the file/);
  });

  it('a tape another program holds locked', () => {
    const p = damaged('locked.tape');
    const holder = new Database(p);
    try {
      holder.exec('BEGIN EXCLUSIVE');
      holder.exec("UPDATE meta SET value = value WHERE key = 'tool_version'");
      const e = openError(p);
      expect(e.code).toBe('E_TAPE_CORRUPT');
      expect(e.message).toMatch(/locked\.tape is locked by another program$/);
      expect(e.hint).toMatch(/wait for it to finish/);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
  }, 15_000);
});

/** A lock file naming this process, as a recorder writing the tape leaves it. */
const fakeLive = (p: string) =>
  writeFileSync(`${p}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), started_at: new Date().toISOString(), command: ['arcp', 'record'] }) + '\n');
const sides = (p: string) => [existsSync(`${p}-wal`), existsSync(`${p}-shm`)];
const fileHash = (p: string) => sha(readFileSync(p));

describe('TapeReader: a read leaves the files as it found them', () => {
  it('a tape sealed in WAL mode: the -wal and -shm the read made are taken away, with or without a writer', () => {
    for (const live of [false, true]) {
      const p = damaged(`wal-${live}.tape`, 'PRAGMA journal_mode = WAL');
      if (live) fakeLive(p);
      expect(sides(p)).toEqual([false, false]);
      const t = TapeReader.open(p);
      expect(t.live?.pid).toBe(live ? process.pid : undefined);
      expect([...t.rows()]).toHaveLength(N);
      t.close();
      expect(sides(p), `live: ${live}`).toEqual([false, false]);
    }
  });

  it('an empty -wal and -shm: another reader\'s leftovers are taken away; a writer\'s are left', () => {
    for (const live of [false, true]) {
      const p = damaged(`empty-wal-${live}.tape`, 'PRAGMA journal_mode = WAL');
      if (live) fakeLive(p);
      writeFileSync(`${p}-wal`, '');
      writeFileSync(`${p}-shm`, '');
      withReader(p, (t) => t.frameCount());
      expect(sides(p), `live: ${live}`).toEqual([live, live]);
      // The same when the open fails.
      const newer = damaged(`empty-wal-newer-${live}.tape`, `PRAGMA user_version = ${FORMAT_VERSION + 1}`, 'PRAGMA journal_mode = WAL');
      if (live) fakeLive(newer);
      writeFileSync(`${newer}-wal`, '');
      writeFileSync(`${newer}-shm`, '');
      expect(openError(newer).code).toBe('E_TAPE_NEWER');
      expect(sides(newer), `failed open, live: ${live}`).toEqual([live, live]);
    }
  });

  it('a -shm with no -wal is not a reader\'s pair: it is left', () => {
    const p = damaged('lone-shm.tape');
    writeFileSync(`${p}-shm`, '');
    withReader(p, (t) => t.frameCount());
    expect(sides(p)).toEqual([false, true]);
  });

  it('a killed recording: its -wal is read, and tape and -wal are left byte for byte (no checkpoint)', () => {
    const p = damaged('killed.tape', 'PRAGMA journal_mode = WAL');
    // Another process commits to the WAL and dies without checkpointing.
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
    const script = `const D = require(${JSON.stringify(sqlite)}); const d = new D(${JSON.stringify(p)}); d.pragma('wal_autocheckpoint = 0');
      d.prepare("UPDATE channels SET label = 'relabelled' WHERE id = 2").run(); process.kill(process.pid, 'SIGKILL');`;
    try {
      execFileSync(process.execPath, ['-e', script], { stdio: 'pipe' });
    } catch {
      // killed, as intended
    }
    expect(sides(p)).toEqual([true, true]);
    const before = [fileHash(p), fileHash(`${p}-wal`)];
    expect(withReader(p, (t) => t.channels()[1].label)).toBe('relabelled');
    expect(sides(p)).toEqual([true, true]);
    expect([fileHash(p), fileHash(`${p}-wal`)]).toEqual(before);
  });
});
