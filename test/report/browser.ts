import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's chromium: CI installs it (`.ci/run`); the report's browser tests need it and say so. */
export const CHROMIUM = '/usr/bin/chromium';
/** Screenshots kept as CI artifacts. */
export const OUTPUT_DIR = join(import.meta.dirname, '..', '..', 'test-output');

/** Chromium headless on a fresh profile, offline by its flags; fails with what to do when it cannot start. */
export async function launch(): Promise<{ browser: BrowserContext; close: () => Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'arcp-chromium-'));
  try {
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1400, height: 1000 },
      timeout: 30_000,
    });
    return {
      browser,
      close: async () => {
        await browser.close();
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw new Error(`cannot launch chromium at ${CHROMIUM} (install it: apt-get install -y chromium; .ci/run does): ${(e as Error).message.split('\n')[0]}`);
  }
}

export interface OpenedReport {
  page: Page;
  /** Console errors and uncaught exceptions while loading. */
  errors: string[];
  /** Every request the page made beyond its own file: a self-contained report makes none. */
  requests: string[];
}

/** Opens a report over file:// and waits until its script has drawn it. */
export async function openReport(browser: BrowserContext, file: string, readyMs = 15_000): Promise<OpenedReport> {
  const page = await browser.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  const self = pathToFileURL(file).href;
  page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
  page.on('pageerror', (e) => void errors.push(e.message));
  page.on('request', (r) => void (r.url() !== self && requests.push(r.url())));
  await page.goto(self, { waitUntil: 'load', timeout: 60_000 });
  // A page whose script failed never gets ready: the caller sees its errors, not a hang.
  await page.waitForSelector('body[data-ready="1"]', { timeout: readyMs }).catch(() => undefined);
  return { page, errors, requests };
}

export function screenshotPath(name: string): string {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  return join(OUTPUT_DIR, name);
}
