import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driveReplay } from '../../src/replay/driver.js';
import { startRuntime } from '../helpers/runtime.js';
import { recordStranger, replayToStranger } from '../helpers/stranger.js';
import { readFrames, tapeDir } from '../helpers/tape.js';

const tape = tapeDir();
let rt: Awaited<ReturnType<typeof startRuntime>>;
beforeAll(async () => {
  rt = await startRuntime();
});
afterAll(() => rt.close());

const closeOf = (path: string): Record<string, unknown>[] => readFrames(path).filter((f) => f.kind === 'ws.close').map((f) => ({ dir: f.dir, ...JSON.parse(f.data.toString()) }));

describe('a stranger client ends its session its own way; replay reproduces it both ways', () => {
  // After a bye the runtime may close first (1000) or the client's close may arrive first: both are recorded as they happened.
  const cases = [
    { name: 'bye, then a close without a status code', scenario: 'echo', args: [], close: [{ dir: 'c2s', code: 1005 }, { dir: 's2c', code: 1000 }] },
    { name: 'a close without a status code', scenario: 'echo', args: ['--no-bye'], close: [{ dir: 'c2s', code: 1005 }] },
    { name: '1001 with a reason', scenario: 'echo', args: ['--no-bye', '--close', '1001'], close: [{ dir: 'c2s', code: 1001, reason: 'client going away' }] },
    { name: 'killed mid-session (SIGKILL)', scenario: 'midjob', args: [], close: [{ dir: 'c2s', code: 1006 }] },
  ];
  it.each(cases)('$name', async ({ scenario, args, close }) => {
    const path = tape(`${scenario}-${args.join('') || 'plain'}.tape`);
    const recorded = await recordStranger(path, rt.url, scenario, args);
    if (scenario === 'midjob') expect(recorded.signal).toBe('SIGKILL');
    else expect(recorded.exitCode, recorded.stderr).toBe(0);
    const closed = closeOf(path)[0];
    expect(close.some((c) => Object.entries(c).every(([k, v]) => closed[k] === v)), JSON.stringify(closed)).toBe(true);

    // As the runtime: the same stranger client against the tape.
    const { report, run } = await replayToStranger(path, scenario, args);
    if (scenario === 'midjob') expect(run.signal).toBe('SIGKILL');
    else expect(run.exitCode, run.stderr).toBe(0);
    expect(report.divergences).toEqual([]);
    expect(report.replayFingerprint).toBe(report.tapeFingerprint);

    // As the client: the recorded stranger against the live runtime.
    const driven = await driveReplay({ tape: path, target: rt.url, token: 'tok', timeoutMs: 5000 });
    expect(driven.divergences).toEqual([]);
    if (closed.dir === 'c2s' && closed.code !== 1001) expect(driven.notes.join('\n')).toMatch(closed.code === 1005 ? /without a status code \(1005\)/ : /dropped the TCP connection/);
  });
});
