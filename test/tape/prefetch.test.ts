import { copyFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { ToolError } from '../../src/errors.js';
import { prefetchAvailable, prefetchFrames } from '../../src/tape/prefetch.js';
import { TapeReader, type TapeFrame } from '../../src/tape/reader.js';
import { defaultRules } from '../../src/tape/redact.js';
import { TapeWriter } from '../../src/tape/writer.js';
import { readFrames, tapeDir } from '../helpers/tape.js';

const tape = tapeDir();
let path = '';

/** Two channels, 5000 frames: unique and repeated bodies, one frame of 3 MiB (a page of its own), binary, chunked HTTP bodies. */
beforeAll(async () => {
  path = tape('long.tape');
  const w = await TapeWriter.create({ path, commandLine: ['test'], redaction: defaultRules() });
  const ws = w.channel('ws', 'a');
  const http = w.channel('http', 'b');
  for (let i = 0; i < 5000; i++) {
    if (i === 2500) w.frame(ws, 's2c', 'ws.text', `{"big":"${'x'.repeat(3 * 1024 * 1024)}"}`);
    else if (i % 97 === 0) w.frame(ws, 's2c', 'ws.binary', Buffer.from([0, 255, i % 256]));
    else if (i % 10 === 0) w.frame(ws, 'c2s', 'ws.text', '{"same":true}');
    else if (i % 501 === 0) {
      const parts = [Buffer.from(`part one of ${i}`), Buffer.from(' and two')];
      w.chunks(http, 's2c', 'http.response.body', parts, Buffer.concat(parts), performance.now());
    }
    else w.frame(ws, 's2c', 'ws.text', `{"n":${i}}`);
    if (i % 1000 === 0) await new Promise((r) => setImmediate(r));
  }
  await w.close();
});

const plain = (f: TapeFrame) => ({ ...f, data: f.data.toString('base64') });

describe('frames read on another thread', () => {
  it('are the frames the reader gives, field for field and byte for byte, in order', () => {
    const want = readFrames(path);
    expect(want.length).toBeGreaterThan(4900);
    expect(want.some((f) => f.parts !== null)).toBe(true);
    expect([...prefetchFrames(path, {})].map(plain)).toEqual(want.map(plain));
  });

  it('honour the query: one channel, a seq range', () => {
    const r = TapeReader.open(path);
    try {
      for (const q of [{ channel: 2 }, { channels: [1] }, { fromSeq: 1200, toSeq: 3100 }]) {
        expect([...prefetchFrames(path, q)].map(plain), JSON.stringify(q)).toEqual([...r.frames(q)].map(plain));
      }
    } finally {
      r.close();
    }
  });

  it('stop at a frame whose bytes do not hash right, after the frames before it, with the reader’s error', () => {
    const bad = tape('bad.tape');
    copyFileSync(path, bad);
    const db = new Database(bad);
    const { blob, data } = db.prepare('SELECT f.blob, b.data FROM frames f JOIN blobs b ON b.id = f.blob WHERE f.seq = 4000').get() as { blob: number; data: Buffer };
    const altered = Buffer.from(data);
    altered[0] ^= 1;
    db.prepare('UPDATE blobs SET data = ? WHERE id = ?').run(altered, blob);
    db.close();
    const readAll = (frames: () => Iterable<TapeFrame>) => {
      const seqs: number[] = [];
      try {
        for (const f of frames()) seqs.push(f.seq);
      } catch (e) {
        return { seqs, error: e as ToolError };
      }
      return { seqs, error: undefined };
    };
    const r = TapeReader.open(bad);
    const want = readAll(() => r.frames());
    r.close();
    const got = readAll(() => prefetchFrames(bad, {}));
    expect(want.error).toBeInstanceOf(ToolError);
    expect(want.seqs.at(-1)).toBe(3999);
    expect(got.error).toBeInstanceOf(ToolError);
    const fields = (e: ToolError) => ({ code: e.code, message: e.message, hint: e.hint });
    expect(fields(got.error!)).toEqual(fields(want.error!));
    expect(got.seqs).toEqual(want.seqs);
  });

  it('a consumer that stops early frees its thread', () => {
    for (let i = 0; i < 5; i++) {
      const it = prefetchFrames(path, {});
      expect(it.next().value?.seq).toBe(1);
      it.return(undefined);
      expect(prefetchAvailable()).toBe(true);
    }
  });

  it('a tape that is not there: the reader’s one-line error', () => {
    expect(() => [...prefetchFrames(tape('none.tape'), {})]).toThrow(/no tape at .*none\.tape/);
  });
});
