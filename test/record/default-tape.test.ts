import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { defaultTapePath, record } from '../../src/record/recorder.js';
import { verifyTape } from '../../src/tape/verify.js';

describe('the default tape name (no --tape)', () => {
  it('is tapes/<UTC second>.tape, and -2, -3, … when that name (or its lock) is taken', () => {
    const at = new Date('2026-12-02T18:35:07.250Z');
    expect(defaultTapePath(at, () => false)).toBe(join('tapes', '20261202T183507.tape'));
    const taken = new Set([join('tapes', '20261202T183507.tape'), join('tapes', '20261202T183507-2.tape')]);
    expect(defaultTapePath(at, (p) => taken.has(p))).toBe(join('tapes', '20261202T183507-3.tape'));
  });

  it('two recordings started in the same second both record, each into its own tape', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'arcp-default-'));
    const was = process.cwd();
    process.chdir(cwd);
    onTestFinished(() => {
      process.chdir(was);
      rmSync(cwd, { recursive: true, force: true });
    });
    // Whatever second this runs in, the plain name is already taken (a recording that started a moment ago).
    mkdirSync('tapes');
    const now = Date.now();
    const seconds = [0, 1000, 2000].map((d) => defaultTapePath(new Date(now + d), () => false));
    for (const p of seconds) writeFileSync(p, 'not a tape of ours');
    const opts = { http: { routes: [{ prefix: '/', upstream: 'http://127.0.0.1:9' }] } };
    const [a, b] = await Promise.all([record(opts), record(opts)]);
    const sa = { tape: a.tape, ...(await a.stop()) };
    const sb = { tape: b.tape, ...(await b.stop()) };
    expect(sa.tape).not.toBe(sb.tape);
    for (const s of [sa, sb]) {
      expect(s.tape).toMatch(/^tapes[\\/]\d{8}T\d{6}-\d\.tape$/);
      expect(verifyTape(s.tape).ok).toBe(true);
    }
    expect(readdirSync('tapes').filter((f) => f.endsWith('.tape')).sort()).toEqual([...seconds.map((p) => p.slice(6)), sa.tape.slice(6), sb.tape.slice(6)].sort());
  });
});
