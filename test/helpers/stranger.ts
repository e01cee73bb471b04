import { join } from 'node:path';
import { execa } from 'execa';
import { onTestFinished } from 'vitest';
import { record } from '../../src/record/recorder.js';
import { serveReplay } from '../../src/replay/serve.js';
import type { ReplayReport } from '../../src/replay/report.js';

export const STRANGER_CLIENT = join(import.meta.dirname, '../peers/stranger-client.mjs');

export interface StrangerRun {
  exitCode?: number;
  signal?: string;
  stderr: string;
  /** What the client printed: one observation per line. */
  events: Record<string, unknown>[];
}

/** Runs the stranger client (a separate process, so it can die by SIGKILL) to its end. */
export async function runStranger(url: string, scenario: string, args: string[] = []): Promise<StrangerRun> {
  const r = await execa(process.execPath, [STRANGER_CLIENT, url, scenario, ...args], { reject: false, timeout: 30_000 });
  return {
    exitCode: r.exitCode,
    signal: r.signal ?? undefined,
    stderr: r.stderr,
    events: r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** Records one stranger-client run through `arcp record` in front of `upstream`. */
export async function recordStranger(tape: string, upstream: string, scenario: string, args: string[] = []): Promise<StrangerRun> {
  const rec = await record({ tape, ws: { upstream } });
  onTestFinished(() => void rec.stop());
  const run = await runStranger(rec.addresses.ws!, scenario, args);
  await rec.stop();
  return run;
}

/** Replays `tape` as the runtime to a fresh run of the same stranger client. */
export async function replayToStranger(tape: string, scenario: string, args: string[] = [], o: Partial<Parameters<typeof serveReplay>[0]> = {}): Promise<{ report: ReplayReport; run: StrangerRun }> {
  const served = await serveReplay({ tape, listen: {}, timeoutMs: 5000, ...o });
  onTestFinished(() => void served.stop());
  const run = await runStranger(served.addresses.ws!, scenario, args);
  const report = await Promise.race([served.done, new Promise<ReplayReport>((r) => setTimeout(() => r(served.stop()), 8000))]);
  return { report, run };
}
