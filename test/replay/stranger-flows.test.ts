import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driveReplay } from '../../src/replay/driver.js';
import { TapeReader } from '../../src/tape/reader.js';
import { startRuntime } from '../helpers/runtime.js';
import { recordStranger, replayToStranger } from '../helpers/stranger.js';
import { tapeDir } from '../helpers/tape.js';

const tape = tapeDir();
let rt: Awaited<ReturnType<typeof startRuntime>>;
beforeAll(async () => {
  rt = await startRuntime({ heartbeatIntervalSec: 1 });
});
afterAll(() => rt.close());

const recorded = new Map<string, { path: string; events: Record<string, unknown>[] }>();
async function recording(scenario: string) {
  let r = recorded.get(scenario);
  if (!r) {
    const path = tape(`${scenario}.tape`);
    const run = await recordStranger(path, rt.url, scenario);
    expect(run.exitCode, run.stderr).toBe(0);
    recorded.set(scenario, (r = { path, events: run.events }));
  }
  return r;
}
const gapOf = (events: Record<string, unknown>[]) => events.find((e) => e.event === 'gap')?.ms as number;

describe('values the live side chose are echoed back, and recorded clock values are moved to today', () => {
  it('as the runtime: job.accepted carries the live client\'s expires_at, and the substitution is listed', async () => {
    const { path } = await recording('lease');
    const { report, run } = await replayToStranger(path, 'lease');
    // The stranger exits 3 when job.accepted does not echo the expires_at it sent.
    expect(run.exitCode, run.stderr).toBe(0);
    expect(report.divergences).toEqual([]);
    expect(report.substitutions).toContainEqual(expect.objectContaining({ kind: 'echo', pointer: '/payload/lease_constraints/expires_at' }));
    expect(report.notes.join('\n')).toMatch(/accepted_at: kept as recorded/);
  });

  it('--pace recorded reproduces the gap a timing-sensitive client measures (lease expiry), within 10 %', async () => {
    const { path, events } = await recording('lease');
    const { report, run } = await replayToStranger(path, 'lease', [], { pace: 'recorded' });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(report.divergences).toEqual([]);
    const [want, got] = [gapOf(events), gapOf(run.events)];
    expect(want).toBeGreaterThan(1000);
    expect(Math.abs(got - want) / want).toBeLessThan(0.1);
  });

  it('as the client: the recorded expires_at is moved by the time since recording, so a fresh runtime accepts it', async () => {
    const { path } = await recording('lease');
    const r = await driveReplay({ tape: path, target: rt.url, token: 'tok', timeoutMs: 5000 });
    expect(r.divergences).toEqual([]);
    expect(r.substitutions).toContainEqual(expect.objectContaining({ kind: 'shift', pointer: '/payload/lease_constraints/expires_at' }));
    expect(r.notes.join('\n')).toMatch(/moved 1 timestamp\(s\) the recorded client chose by \+\d+s? /);
  });

  it('negative control: without the move (the clock still at recording time), the runtime refuses the stale expires_at', async () => {
    const { path } = await recording('lease');
    const t = TapeReader.open(path);
    const startedAt = Date.parse(t.meta.started_at);
    t.close();
    const r = await driveReplay({ tape: path, target: rt.url, token: 'tok', timeoutMs: 3000, now: () => startedAt });
    expect(r.ok).toBe(false);
    expect(JSON.stringify(r.divergences[0])).toMatch(/INVALID_REQUEST|expires_at/);
  });
});

describe('several connections replay together, in their recorded order', () => {
  it('session B lists and subscribes to session A\'s running job: clean both ways', async () => {
    const { path } = await recording('subscribe');
    const { report, run } = await replayToStranger(path, 'subscribe');
    expect(run.exitCode, run.stderr).toBe(0);
    expect(report.divergences).toEqual([]);
    expect(report.replayFingerprint).toBe(report.tapeFingerprint);

    const r = await driveReplay({ tape: path, target: rt.url, token: 'tok', timeoutMs: 5000 });
    expect(r.divergences).toEqual([]);
  });

  it('a v1.0 resume (inside session.hello) on a new connection after a dropped socket: clean both ways', async () => {
    const { path } = await recording('resume');
    const { report, run } = await replayToStranger(path, 'resume');
    expect(run.exitCode, run.stderr).toBe(0);
    expect(report.divergences).toEqual([]);
    const r = await driveReplay({ tape: path, target: rt.url, token: 'tok', timeoutMs: 5000 });
    expect(r.divergences).toEqual([]);
    // The recorded session id and resume token in the v1.0 resume became the live runtime's.
    expect(r.substitutions.filter((s) => s.kind === 'id').map((s) => s.from.slice(0, 3))).toEqual(expect.arrayContaining(['rt_', 'ses']));
  });
});

describe('timer-driven frames are judged by their rules, not by equality', () => {
  it('acks on a timer: other values and positions than recorded, still clean (both ways)', async () => {
    const { path } = await recording('ack');
    const { report, run } = await replayToStranger(path, 'ack', ['--ack-ms', '7']);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(report.divergences).toEqual([]);
    expect(report.notes.join('\n')).toMatch(/judged live session.ack frames by their rule/);
    const r = await driveReplay({ tape: path, target: rt.url, token: 'tok', timeoutMs: 5000 });
    expect(r.divergences).toEqual([]);
  });

  it('a client that acks beyond what it received, or goes back, is caught', async () => {
    const { path } = await recording('ack');
    const ahead = await replayToStranger(path, 'ack', ['--ack-ahead', '5']);
    expect(ahead.report.divergences[0]?.message).toMatch(/acked event_seq \d+, but only \d+ had been delivered/);
    const back = await replayToStranger(path, 'ack', ['--ack-back']);
    expect(back.report.divergences[0]?.message).toMatch(/went back from \d+ to \d+/);
  });

  it('heartbeats: pongs are judged by the interval; a client that never answers a ping is caught', async () => {
    const { path } = await recording('quiet');
    const good = await replayToStranger(path, 'quiet');
    expect(good.report.divergences).toEqual([]);
    expect(good.report.notes.join('\n')).toMatch(/judged live session.pong/);
    const silent = await replayToStranger(path, 'quiet', ['--no-pong']);
    expect(silent.report.divergences[0]?.message).toMatch(/did not answer session.ping .* within heartbeat_interval_sec \(1 s\)/);
    const r = await driveReplay({ tape: path, target: rt.url, token: 'tok', timeoutMs: 5000 });
    expect(r.divergences).toEqual([]);
  });
});
