// `arcp report` on a 200k-frame tape: the page's size, the time to build it against reading the
// tape (every frame hash-checked, as any reader does) in the same invocation, and the time
// headless chromium takes to open it (load until the page says it is drawn) and to search it.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { TapeReader } from '../dist/src/tape/reader.js';
import { writeTapeReport } from '../dist/src/report/tape-report.js';
import { makeTape } from './replay.mjs';

export async function reportBench({ frames = 200_000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'arcp-bench-'));
  try {
    const tape = join(dir, 'big.tape');
    await makeTape(tape, frames);
    let t = performance.now();
    const r = TapeReader.open(tape);
    let n = 0;
    for (const _ of r.frames()) n++;
    r.close();
    const readMs = performance.now() - t;
    t = performance.now();
    const w = writeTapeReport(tape, join(dir, 'big.html'));
    const buildMs = performance.now() - t;
    const profile = mkdtempSync(join(tmpdir(), 'arcp-chromium-'));
    const ctx = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    try {
      const page = await ctx.newPage();
      t = performance.now();
      await page.goto(pathToFileURL(w.path).href);
      await page.waitForSelector('body[data-ready="1"]', { timeout: 120_000 });
      const openMs = performance.now() - t;
      t = performance.now();
      await page.fill('#search', 'job.event');
      await page.waitForFunction(() => document.querySelector('#match-count')?.textContent?.includes('match'), null, { timeout: 120_000 });
      const searchMs = performance.now() - t;
      return { frames: n, readMs, buildMs, bytes: statSync(w.path).size, tapeBytes: statSync(tape).size, openMs, searchMs, clipped: w.clipped, textless: w.textless };
    } finally {
      await ctx.close();
      rmSync(profile, { recursive: true, force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
