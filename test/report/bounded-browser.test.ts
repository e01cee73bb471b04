import { statSync } from 'node:fs';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { writeTapeReport } from '../../src/report/tape-report.js';
import { defaultRules } from '../../src/tape/redact.js';
import { TapeWriter } from '../../src/tape/writer.js';
import { tapeDir } from '../helpers/tape.js';
import { launch, openReport } from './browser.js';

/**
 * A tape too big to show whole: the page must stay bounded by its budget (not by the tape) and
 * keep only the rows in view in the DOM, and every frame must still be there to find.
 */
const file = tapeDir();
const TAPE = file('big.tape');
const FRAMES = 30_000;
const HOSTILE = '</script><img src=x onerror="document.title=1"><script>throw new Error("ran")</script>\u2028';
let browser: BrowserContext;
let closeBrowser: () => Promise<void> = async () => undefined;

beforeAll(async () => {
  const w = await TapeWriter.create({ path: TAPE, commandLine: ['test'], redaction: defaultRules() });
  const ch = w.channel('ws', 'big');
  const pad = 'x'.repeat(900);
  // A stranger's frame that tries to end the data tag and run markup: it must stay text.
  w.frame(ch, 'c2s', 'ws.text', JSON.stringify({ type: 'x', text: HOSTILE }));
  for (let i = 1; i <= FRAMES; i++) {
    w.frame(ch, 's2c', 'ws.text', JSON.stringify({ arcp: '1.1', id: `msg_${i}`, type: 'job.event', job_id: 'job_1', event_seq: i, payload: { kind: 'log', body: { message: `line ${i}`, pad } } }));
    if (i % 10_000 === 0) await new Promise((r) => setImmediate(r));
  }
  await w.close();
  ({ browser, close: closeBrowser } = await launch());
}, 90_000);
afterAll(() => closeBrowser());

describe('a report of a big tape', () => {
  it('grows with its budget, not with the tape; the rows in view are the only rows; any frame is still found by its seq', async () => {
    const small = writeTapeReport(TAPE, file('small.html'), { budget: 1_000_000 });
    const large = writeTapeReport(TAPE, file('large.html'), { budget: 8_000_000 });
    const tape = statSync(TAPE).size;
    // ~1 KB of text a frame: the small budget holds about 1000 frames' text, the rest summaries.
    expect(small.textless).toBeGreaterThan(FRAMES - 1200);
    expect(small.bytes).toBeLessThan(1_000_000 + FRAMES * 120);
    expect(large.bytes - small.bytes).toBeGreaterThan(6_000_000);
    expect(small.bytes).toBeLessThan(tape / 4);
    const { page, errors } = await openReport(browser, small.path);
    onTestFinished(() => page.close());
    expect(errors).toEqual([]);
    expect(await page.getAttribute('#timeline', 'data-frames')).toBe(String(FRAMES + 1));
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('.frow').count()).toBeLessThan(80);
    // A frame past the budget: its text is not in the page, its seq and summary are; shown with the command for its bytes.
    await page.fill('#search', '#30000');
    await page.waitForFunction(() => document.querySelector('#match-count')?.getAttribute('data-count') === '1', null, { timeout: 10_000 });
    await page.locator('.frow').first().click();
    expect(await page.locator('#detail').textContent()).toContain(`arcp tape show ${TAPE} --frame 30000`);
    await page.fill('#search', '');
    await page.locator('.frow[data-seq="1"]').click();
    expect(await page.locator('#frame-bytes').textContent()).toBe(JSON.stringify({ type: 'x', text: HOSTILE }, null, 2));
    expect(errors).toEqual([]);
  }, 90_000);
});
