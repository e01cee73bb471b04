import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { ChannelKind, FrameKind } from '../../src/tape/format.js';
import { TapeReader, type TapeFrame } from '../../src/tape/reader.js';
import { defaultRules } from '../../src/tape/redact.js';
import { TapeWriter } from '../../src/tape/writer.js';

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

/** One recorded frame of a scripted tape; `monoMs` pins its time (otherwise 1 ms after the one before). */
export type ScriptRow = [dir: 'c2s' | 's2c' | 'meta', kind: FrameKind, data: string, monoMs?: number];

/**
 * A small tape of `channels` (one list of rows each), written frame by frame across channels in
 * turn, since the order across connections is part of what is played. `timed`: frames carry
 * the rows' times (a paced replay reads them); otherwise the writer's clock.
 */
export async function scriptedTape(path: string, kind: ChannelKind, channels: ScriptRow[][], timed = false): Promise<string> {
  const w = await TapeWriter.create({ path, commandLine: ['test'], redaction: defaultRules() });
  const ids = channels.map(() => w.channel(kind, 'test'));
  const longest = Math.max(...channels.map((c) => c.length));
  let t = 0;
  for (let i = 0; i < longest; i++)
    channels.forEach((rows, c) => {
      const r = rows[i];
      if (!r) return;
      t = r[3] ?? t + 1;
      w.frame(ids[c], r[0], r[1], r[2], timed ? { monoUs: t * 1000, wallMs: Date.now() } : undefined);
    });
  await w.close();
  return path;
}
