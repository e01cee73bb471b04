import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { DEMO_SCRIPT } from '../../src/llm/demo-script.js';
import { startScriptedLlm, type ScriptedLlm } from '../../src/llm/scripted-server.js';
import { DEFAULT_LLM, type LlmSettings } from '../../src/runtime/agents/assistant.js';
import { referenceAgents } from '../../src/runtime/agents/index.js';
import { recordAssistant } from '../helpers/assistant.js';
import { arcp } from '../helpers/cli.js';
import { startRuntime } from '../helpers/runtime.js';
import { readFrames, tapeDir } from '../helpers/tape.js';
import { launch, openReport, screenshotPath } from './browser.js';

/**
 * The pages `replay --report`, `conform --report` and `tape tree --report` write, over real
 * runs: a replay against a runtime whose model now answers differently, a conformance run of
 * the reference runtime, and a recorded tape with a fork of it.
 */
const file = tapeDir();
const TAPE = file('parent.tape');
let browser: BrowserContext;
let closeBrowser: () => Promise<void> = async () => undefined;
let rt: Awaited<ReturnType<typeof startRuntime>>;
let llm: ScriptedLlm;
const settings: LlmSettings = { ...DEFAULT_LLM };

beforeAll(async () => {
  llm = await startScriptedLlm({ script: DEMO_SCRIPT });
  rt = await startRuntime({ agents: referenceAgents(() => settings) });
  await recordAssistant(TAPE, rt.url, settings, llm.url);
  ({ browser, close: closeBrowser } = await launch());
}, 90_000);
afterAll(async () => {
  await closeBrowser();
  await rt?.close();
  await llm?.close();
});

describe('report pages of a replay, a conformance run and a fork family', () => {
  it('replay --report: the first divergence selected, expected beside actual, the frames around it', async () => {
    // The model's last answer changes: the job's result no longer matches the tape.
    const changed = await startScriptedLlm({ script: { ...DEMO_SCRIPT, replies: DEMO_SCRIPT.replies.map((r) => (r.say === 'The total is {{tool_result.value}}.' ? { ...r, say: 'Total: {{tool_result.value}}.' } : r)) } });
    onTestFinished(() => changed.close());
    settings.url = changed.url;
    const html = file('diverged.html');
    const r = await arcp(['replay', TAPE, '--target', rt.url, '--token', 'tok', '--report', html, '--json']);
    expect(r.exitCode, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    const d = report.divergences[0];
    expect(r.stderr).toMatch(/replay report: .*diverged\.html/);
    const { page, errors } = await openReport(browser, html);
    onTestFinished(() => page.close());
    expect(errors).toEqual([]);
    expect(await page.locator('#divergence').textContent()).toContain(`#${d.seq}`);
    expect(await page.locator('#expected').textContent()).toContain('The total is 56.7.');
    expect(await page.locator('#actual').textContent()).toContain('Total: 56.7.');
    // The recorded frame it diverged at is the one shown, among its neighbours only.
    expect(await page.locator('.frame-head').textContent()).toMatch(new RegExp(`^#${d.seq} · `));
    const shown = Number(await page.getAttribute('#timeline', 'data-frames'));
    expect(shown).toBeGreaterThan(1);
    expect(shown).toBeLessThanOrEqual(Math.min(81, readFrames(TAPE).length));
    await page.screenshot({ path: screenshotPath('report-divergence.png'), fullPage: true });
  }, 60_000);

  it('conform --report: results by spec §, each failure with its exchange', async () => {
    settings.url = llm.url;
    const html = file('conform.html');
    const r = await arcp(['conform', 'tape', TAPE, '--report', html, '--json']);
    expect([0, 1]).toContain(r.exitCode);
    const report = JSON.parse(r.stdout);
    const { page, errors } = await openReport(browser, html);
    onTestFinished(() => page.close());
    expect(errors).toEqual([]);
    expect(await page.locator('#conform tr.result').count()).toBe(report.checks.reduce((n: number, c: { sections: string[] }) => n + Math.max(1, c.sections.length), 0));
    const captions = await page.locator('#conform caption').allTextContents();
    expect(captions.length).toBeGreaterThan(0);
    expect(captions.every((c) => c.startsWith('§'))).toBe(true);
    expect(await page.locator('#conform tr[data-verdict="fail"]').count()).toBe(report.checks.filter((c: { status: string }) => c.status === 'fail').reduce((n: number, c: { sections: string[] }) => n + Math.max(1, c.sections.length), 0));
  }, 60_000);

  it('tape tree --report: the fork under its parent', async () => {
    const child = file('child.tape');
    const f = await arcp(['fork', TAPE, '--at', 'job:1/result', '--set', '/payload/result/answer="forked"', '--out', child]);
    expect(f.exitCode, f.stderr).toBe(0);
    const html = file('family.html');
    const r = await arcp(['tape', 'tree', file(''), '--report', html]);
    expect(r.exitCode, r.stderr).toBe(0);
    const { page, errors } = await openReport(browser, html);
    onTestFinished(() => page.close());
    expect(errors).toEqual([]);
    const nodes = page.locator('#tree details.node');
    expect(await nodes.count()).toBe(2);
    expect(await nodes.nth(0).locator('summary').textContent()).toContain('parent.tape');
    expect(await nodes.nth(1).locator('summary').textContent()).toMatch(/child\.tape · forked at job:1\/result/);
    expect(await nodes.nth(1).evaluate((e) => (e as HTMLElement).style.marginLeft)).toBe('26px');
  }, 60_000);
});
