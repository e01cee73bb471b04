import { readFileSync, writeFileSync } from 'node:fs';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { DEMO_SCRIPT } from '../../src/llm/demo-script.js';
import { startScriptedLlm } from '../../src/llm/scripted-server.js';
import { deriveRecords } from '../../src/records/derive.js';
import { DEFAULT_LLM, type LlmSettings } from '../../src/runtime/agents/assistant.js';
import { referenceAgents } from '../../src/runtime/agents/index.js';
import { TapeReader } from '../../src/tape/reader.js';
import { recordAssistant } from '../helpers/assistant.js';
import { arcp } from '../helpers/cli.js';
import { startRuntime } from '../helpers/runtime.js';
import { readFrames, tapeDir } from '../helpers/tape.js';
import { launch, openReport, screenshotPath } from './browser.js';

/**
 * A real recording (the reference runtime's assistant agent, its LLM calls through the HTTP
 * recorder to the scripted model), `arcp report` over it, and the page opened in headless
 * chromium from file://: what a colleague sees when they open the report from a bug.
 */
const tape = tapeDir();
const TAPE = tape('assistant.tape');
const HTML = tape('assistant.report.html');
let browser: BrowserContext;
let closeBrowser: () => Promise<void> = async () => undefined;
let channels = 0;
const LLM_KEY = 'sk-proj-REPORTKEY-0a1b2c3d4e5f6a7b';

beforeAll(async () => {
  const llm = await startScriptedLlm({ script: DEMO_SCRIPT });
  const settings: LlmSettings = { ...DEFAULT_LLM, key: LLM_KEY };
  const rt = await startRuntime({ agents: referenceAgents(() => settings) });
  try {
    await recordAssistant(TAPE, rt.url, settings, llm.url);
  } finally {
    await rt.close();
    await llm.close();
  }
  const t = TapeReader.open(TAPE);
  channels = t.channels().length;
  t.close();
  ({ browser, close: closeBrowser } = await launch());
}, 90_000);
afterAll(() => closeBrowser());

describe('arcp report in a real browser', () => {
  it('writes one self-contained file and says what it holds', async () => {
    const r = await arcp(['report', TAPE, '-o', HTML, '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    const frames = readFrames(TAPE);
    expect(out).toMatchObject({ path: HTML, frames: frames.length, lanes: channels, jobs: 1 });
    expect(out.records).toBe(deriveRecords(TAPE).records.length);
    const html = readFileSync(HTML, 'utf8');
    expect(out.bytes).toBe(Buffer.byteLength(html));
    // Nothing to fetch: no external script, stylesheet, image or font.
    expect(html).not.toMatch(/<(link|img|iframe)\b|\bsrc=|@import|url\(/i);
    // The default path sits beside the tape; a report never replaces its tape.
    const d = await arcp(['report', TAPE]);
    expect(d.exitCode, d.stderr).toBe(0);
    expect(d.stderr).toMatch(/wrote .*assistant\.report\.html .*frames in \d+ lanes, 1 job/);
    const self = await arcp(['report', TAPE, '-o', TAPE]);
    expect(self.exitCode).toBe(2);
    expect(self.stderr.trim()).toMatch(/^arcp: the report would replace .*assistant\.tape, which it reports on/);
    const missing = await arcp(['report', tape('nope.tape')]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
  }, 60_000);

  it('loads offline with no console errors: a lane per channel, every frame, the LLM calls under their job', async () => {
    const { page, errors, requests } = await openReport(browser, HTML);
    onTestFinished(() => page.close());
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    const frames = readFrames(TAPE);
    const http = TapeReader.open(TAPE);
    const httpLanes = http.channels().filter((c) => c.kind === 'http').length;
    http.close();
    expect(httpLanes).toBe(4);
    expect(await page.getAttribute('#timeline', 'data-lanes')).toBe(String(channels));
    expect(await page.getAttribute('#timeline', 'data-frames')).toBe(String(frames.length));
    expect(await page.locator('.lane').count()).toBe(channels);
    expect(await page.locator('.lane.nested').count()).toBe(httpLanes);
    expect(await page.getAttribute('#match-count', 'data-count')).toBe(String(frames.length));
    await page.locator('details.job summary').first().click();
    await page.locator('details.job .calls').waitFor({ timeout: 10_000 });
    expect(await page.locator('details.job .calls .call').count()).toBe(httpLanes);
    const records = deriveRecords(TAPE).records;
    expect(await page.locator('details.job .rec').count()).toBe(records.length);
    await page.screenshot({ path: screenshotPath('report-assistant.png'), fullPage: true });
  }, 60_000);

  it('a click on a frame shows its bytes; an evidence link shows the frame it names', async () => {
    const { page } = await openReport(browser, HTML);
    onTestFinished(() => page.close());
    const frames = readFrames(TAPE);
    const submit = frames.find((f) => f.kind === 'ws.text' && f.data.includes('"job.submit"'))!;
    await page.locator(`.frow[data-seq="${submit.seq}"]`).click();
    expect(await page.locator('#frame-bytes').textContent()).toBe(JSON.stringify(JSON.parse(submit.data.toString('utf8')), null, 2));
    // The first tool record's output evidence: the tool_result frame.
    const tool = deriveRecords(TAPE).records.find((r) => r.kind === 'tool')!;
    const seq = tool.evidence.fields.output[0].seq;
    await page.locator('details.job summary').first().click();
    await page.locator('details.job .records').waitFor({ timeout: 10_000 });
    await page.locator('details.job .rec', { hasText: tool.event.action }).first().locator('.link', { hasText: `#${seq}` }).first().click();
    const f = frames.find((x) => x.seq === seq)!;
    expect(await page.locator('.frame-head').textContent()).toMatch(new RegExp(`^#${seq} · ws.text`));
    expect(await page.locator('#frame-bytes').textContent()).toBe(JSON.stringify(JSON.parse(f.data.toString('utf8')), null, 2));
    // A redacted value is the tape's placeholder, on the page as in the tape.
    const html = readFileSync(HTML, 'utf8');
    expect(html).not.toContain(LLM_KEY);
    expect(html).toMatch(/\[arcp-redacted:\d+\]/);
  }, 60_000);

  it('search filters the list (and a cleared search brings every frame back)', async () => {
    const { page } = await openReport(browser, HTML);
    onTestFinished(() => page.close());
    const frames = readFrames(TAPE);
    const want = frames.filter((f) => f.data.toString('utf8').includes('job.accepted')).map((f) => String(f.seq));
    expect(want.length).toBeGreaterThan(0);
    await page.fill('#search', 'job.accepted');
    await page.waitForFunction((n) => document.querySelector('#match-count')?.getAttribute('data-count') === String(n), want.length, { timeout: 10_000 });
    expect(await page.locator('.frow').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-seq')))).toEqual(want);
    await page.fill('#search', '');
    await page.waitForFunction((n) => document.querySelector('#match-count')?.getAttribute('data-count') === String(n), frames.length, { timeout: 10_000 });
  }, 60_000);

  it('the checks catch a page that fetches something or throws (the broken reports they exist for)', async () => {
    const html = readFileSync(HTML, 'utf8');
    const fetching = tape('fetching.html');
    writeFileSync(fetching, html.replace('<meta charset="utf-8">', '<meta charset="utf-8"><script src="http://127.0.0.1:9/cdn.js"></script>'));
    const a = await openReport(browser, fetching);
    onTestFinished(() => a.page.close());
    expect(a.requests).toEqual(['http://127.0.0.1:9/cdn.js']);
    const throwing = tape('throwing.html');
    writeFileSync(throwing, html.replace('var D = JSON.parse', 'var D = JSON.parse(""); JSON.parse'));
    const b = await openReport(browser, throwing, 2000);
    onTestFinished(() => b.page.close());
    expect(b.errors.join('\n')).toMatch(/JSON/);
    expect(await b.page.locator('body[data-ready="1"]').count()).toBe(0);
  }, 60_000);
});
