import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { TapeReader, type TapeFrame } from '../../src/tape/reader.js';

/** A fresh folder for this test file's tapes, removed afterwards. */
export function tapeDir(): (name: string) => string {
  const dir = mkdtempSync(join(tmpdir(), 'arcp-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return (name: string) => join(dir, name);
}

export function readFrames(path: string): TapeFrame[] {
  const t = TapeReader.open(path);
  try {
    return [...t.frames()];
  } finally {
    t.close();
  }
}

export const payloads = (frames: TapeFrame[], kinds: string[], dir?: string): Buffer[] =>
  frames.filter((f) => kinds.includes(f.kind) && (!dir || f.dir === dir)).map((f) => f.data);

/** A copy of the tape at `src`, at `dest`, with `sql` run on it (a damaged tape for the checks). */
export function damagedCopy(src: string, dest: string, ...sql: string[]): string {
  copyFileSync(src, dest);
  const db = new Database(dest);
  for (const s of sql) db.exec(s);
  db.close();
  return dest;
}
