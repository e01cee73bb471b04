import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { TapeGap } from '../../src/tape/format.js';
import { defaultRules } from '../../src/tape/redact.js';
import { gapLine, verifyTape } from '../../src/tape/verify.js';
import { TapeWriter } from '../../src/tape/writer.js';
import { until } from '../helpers/runtime.js';
import { damagedCopy, tapeDir } from '../helpers/tape.js';

const path = tapeDir();
let sound = '';
let sealedWith = '';
/** Five frames, four distinct blobs: seq 1..5 on channel 1, seq 6 on channel 2. */
const FRAMES: [number, 'c2s' | 's2c', string][] = [
  [1, 'c2s', '{"n":1}'], [1, 's2c', '{"n":2}'], [1, 's2c', '{"n":3}'], [1, 'c2s', '{"n":1}'], [2, 's2c', '{"n":4}'], [2, 'c2s', '{"n":5}'],
];

beforeAll(async () => {
  sound = path('sound.tape');
  const w = await TapeWriter.create({ path: sound, commandLine: ['test'], redaction: defaultRules() });
  const chs = [w.channel('ws', 'ws#1'), w.channel('ws', 'ws#2')];
  for (const [ch, dir, text] of FRAMES) w.frame(chs[ch - 1], dir, 'ws.text', text);
  sealedWith = (await w.close()).fingerprint;
});

/** A copy of the sound tape with `sql` run on it. */
const damaged = (name: string, ...sql: string[]): string => damagedCopy(sound, path(name), ...sql);

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const setMeta = (key: string, value: unknown) => `UPDATE meta SET value = '${JSON.stringify(value)}' WHERE key = '${key}'`;

describe('verifyTape', () => {
  it('a sound tape: ok, its frames and blobs counted, the fingerprint recomputed from its rows equals the sealed one', () => {
    const r = verifyTape(sound);
    const lines = FRAMES.map(([ch, dir, text]) => `${ch} ${dir} ws.text ${sha(text)}\n`).join('');
    expect(r).toEqual({
      path: sound, ok: true, frames: 6, blobs: 5, fingerprint: 'fp1:' + sha(lines), storedFingerprint: sealedWith,
      unsealed: false, live: undefined, gaps: [], problems: [],
    });
    expect(sealedWith).toBe(r.fingerprint);
  });

  it('a tape that was never sealed is still ok, and says so', () => {
    const r = verifyTape(damaged('unsealed.tape', "DELETE FROM meta WHERE key IN ('ended_at', 'fingerprint', 'frame_count')"));
    expect(r).toMatchObject({ ok: true, unsealed: true, frames: 6, storedFingerprint: undefined, problems: [] });
    expect(r.fingerprint).toBe(verifyTape(sound).fingerprint);
  });

  it('a blob whose size is not its length, and one whose bytes do not hash to its name', () => {
    const hash = sha('{"n":2}');
    const r = verifyTape(damaged('blobs.tape', `UPDATE blobs SET size = 99 WHERE hash = '${hash}'`, `UPDATE blobs SET data = CAST('{"n":9}' AS BLOB) WHERE hash = '${sha('{"n":3}')}'`));
    expect(r.ok).toBe(false);
    expect(r.blobs).toBe(5);
    expect(r.problems).toEqual([`blob ${hash.slice(0, 12)}… is 7 bytes, recorded as 99`, `blob ${sha('{"n":3}').slice(0, 12)}… does not hash to its name`]);
  });

  it('frames whose blob is gone: listed by seq, at most ten, and no fingerprint is claimed', () => {
    const r = verifyTape(damaged('orphans.tape', `DELETE FROM blobs WHERE hash = '${sha('{"n":1}')}'`));
    expect(r).toEqual({
      path: r.path, ok: false, frames: 6, blobs: 4, fingerprint: '', storedFingerprint: sealedWith, unsealed: false, live: undefined, gaps: [],
      problems: ['frames whose bytes are missing: 1, 4'],
    });
    const many = damaged('many-orphans.tape', 'INSERT INTO frames SELECT seq + 100, channel, dir, kind, mono_us, wall_ms, 999, size, flags, parts FROM frames', 'INSERT INTO frames SELECT seq + 200, channel, dir, kind, mono_us, wall_ms, 999, size, flags, parts FROM frames WHERE seq < 100', "DELETE FROM meta WHERE key = 'ended_at'");
    const m = verifyTape(many);
    expect(m.problems).toEqual(['frames whose bytes are missing: 101, 102, 103, 104, 105, 106, 201, 202, 203, 204, …']);
    expect(m).toMatchObject({ ok: false, frames: 18, unsealed: true });
    const ten = verifyTape(damaged('ten-orphans.tape', 'INSERT INTO frames SELECT seq + 100, channel, dir, kind, mono_us, wall_ms, 999, size, flags, parts FROM frames', 'INSERT INTO frames SELECT seq + 200, channel, dir, kind, mono_us, wall_ms, 999, size, flags, parts FROM frames WHERE seq <= 4'));
    expect(ten.problems).toEqual(['frames whose bytes are missing: 101, 102, 103, 104, 105, 106, 201, 202, 203, 204']);
  });

  it('a hole in the frame log, and a frame count and fingerprint that differ from the sealed ones', () => {
    const r = verifyTape(damaged('hole.tape', 'DELETE FROM frames WHERE seq = 3'));
    const lines = FRAMES.filter((_f, i) => i !== 2).map(([ch, dir, text]) => `${ch} ${dir} ws.text ${sha(text)}\n`).join('');
    expect(r.frames).toBe(5);
    expect(r.fingerprint).toBe('fp1:' + sha(lines));
    expect(r.problems).toEqual(['frame log jumps from 2 to 4', `fingerprint is ${r.fingerprint}, the tape was sealed with ${sealedWith}`, '5 frames, the tape was sealed with 6']);
    expect(r.ok).toBe(false);
    const late = verifyTape(damaged('late-start.tape', 'DELETE FROM frames WHERE seq = 1', "DELETE FROM meta WHERE key IN ('fingerprint', 'frame_count')"));
    expect(late.problems).toEqual(['frame log jumps from 0 to 2']);
  });

  it('a sealed fingerprint or frame count that was changed is named', () => {
    expect(verifyTape(damaged('fp.tape', setMeta('fingerprint', 'fp1:00'))).problems).toEqual([`fingerprint is ${sealedWith}, the tape was sealed with fp1:00`]);
    expect(verifyTape(damaged('count.tape', setMeta('frame_count', 7))).problems).toEqual(['6 frames, the tape was sealed with 7']);
    expect(verifyTape(damaged('count0.tape', setMeta('frame_count', 0))).problems).toEqual(['6 frames, the tape was sealed with 0']);
  });

  it('chunk sizes must add up to the frame\'s size', () => {
    const r = verifyTape(damaged('parts.tape', "UPDATE frames SET parts = '[[3,10],[3,20]]' WHERE seq = 2", "UPDATE frames SET parts = '[[3,10],[4,20]]' WHERE seq = 5"));
    expect(r.problems).toEqual(['frame 2: its chunk sizes do not add up to its 7 bytes']);
  });

  it('a quick_check failure is a problem', () => {
    // The channels table's page claims fragmented bytes it does not have (verify reads no channel).
    const p = damaged('fragments.tape');
    const db = new Database(p, { readonly: true });
    const root = (db.prepare("SELECT rootpage FROM sqlite_schema WHERE name = 'channels'").get() as { rootpage: number }).rootpage;
    const size = db.pragma('page_size', { simple: true }) as number;
    db.close();
    const bytes = readFileSync(p);
    bytes[(root - 1) * size + 7] = 200;
    writeFileSync(p, bytes);
    const r = verifyTape(p);
    expect(r.ok).toBe(false);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatch(/^SQLite integrity: [^]*page \d+: free space corruption/);
  });

  it('recorded gaps are problems, each in one line, and are returned', () => {
    const gaps: TapeGap[] = [
      { after_seq: 4, frames: 1234, bytes: 56789, from_mono_us: 1_500_000, to_mono_us: 2_250_500, from_wall_ms: 1_700_000_000_000, to_wall_ms: 1_700_000_000_750, channels: [1, 2], reason: 'disk full' },
      { after_seq: 6, frames: 1, bytes: 10, from_mono_us: 0, to_mono_us: 1, from_wall_ms: 0, to_wall_ms: 0, channels: [3], reason: 'writer died', cut_rows: [5, 6] },
    ];
    const r = verifyTape(damaged('gaps.tape', `INSERT INTO meta VALUES ('gaps', '${JSON.stringify(gaps)}')`));
    expect(r.gaps).toEqual(gaps);
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([
      '1,234 frames (56,789 bytes, channels 1, 2) were forwarded but not recorded after seq 4, from 1.500 s to 2.251 s (2023-11-14T22:13:20.000Z): disk full',
      '1 frames (10 bytes, channel 3) were forwarded but not recorded after seq 6, from 0.000 s to 0.000 s (1970-01-01T00:00:00.000Z): writer died; the bodies of frames 5, 6 lack them',
    ]);
    expect(gapLine(gaps[0])).not.toContain('lack them');
  });

  it('at most fifty problems are listed', () => {
    const p = path('many.tape');
    const db = new Database(p);
    db.exec(readSchema(sound));
    db.close();
    const r = verifyTape(damaged('fifty.tape', 'INSERT INTO blobs SELECT id + 100, hash, size + 1, data FROM blobs', 'INSERT INTO blobs SELECT id + 200, hash, size, data FROM blobs WHERE id > 100',
      ...Array.from({ length: 10 }, (_v, i) => `INSERT INTO blobs SELECT id + ${1000 * (i + 1)}, hash, size, data FROM blobs WHERE id > 100 AND id < 1000`)));
    expect(r.problems).toHaveLength(50);
    expect(r.blobs).toBeGreaterThan(50);
    expect(r.ok).toBe(false);
  });

  it('leaves nothing behind: a tape sealed in WAL mode (older arcp) gains no -wal or -shm', () => {
    const p = damaged('old-wal.tape', 'PRAGMA journal_mode = WAL');
    expect(existsSync(`${p}-wal`) || existsSync(`${p}-shm`)).toBe(false);
    expect(verifyTape(p)).toMatchObject({ ok: true, frames: 6 });
    expect(existsSync(`${p}-wal`)).toBe(false);
    expect(existsSync(`${p}-shm`)).toBe(false);
  });

  it('a tape being written: what it has committed is checked, and the writer is named', async () => {
    const p = path('live.tape');
    const w = await TapeWriter.create({ path: p, commandLine: ['test'], redaction: defaultRules() });
    onTestFinished(() => w.close().then(() => undefined));
    const ch = w.channel('ws', 'ws#1');
    w.frame(ch, 's2c', 'ws.text', '{"n":1}');
    w.flush();
    await until(() => verifyTape(p).frames === 1, 5000, 'the first batch committed');
    const r = verifyTape(p);
    expect(r.live).toEqual({ pid: process.pid, started_at: expect.any(String) });
    expect(Object.keys(r.live!)).toEqual(['pid', 'started_at']);
    expect(r).toMatchObject({ ok: true, unsealed: true });
  });
});

function readSchema(p: string): string {
  const db = new Database(p, { readonly: true });
  try {
    return (db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table'").all() as { sql: string }[]).map((r) => r.sql + ';').join('\n');
  } finally {
    db.close();
  }
}
