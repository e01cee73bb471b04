import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ArcpClient } from '../../src/client/client.js';
import { record } from '../../src/record/recorder.js';
import { parseFault } from '../../src/replay/faults.js';
import { serveReplay, type ServeReplayOptions } from '../../src/replay/serve.js';
import { connectWebSocket } from '../../src/engine/transport/websocket.js';
import { startRuntime, until } from '../helpers/runtime.js';
import { tapeDir } from '../helpers/tape.js';

const tape = tapeDir();
let path = '';

/** The client under test: a fixed little session. `variant` makes it deviate. */
async function session(url: string, variant: 'same' | 'changed' | 'skip' | 'extra' = 'same', tap?: Tap) {
  const c = await ArcpClient.connect(
    async () => {
      const t = await connectWebSocket(url);
      if (tap) {
        t.onFrame((f) => tap.frames.push(f.data.toString()));
        t.onClose((info) => (tap.close = info));
      }
      return t;
    },
    { token: 'tok', requestTimeoutMs: 3000 },
  );
  const echo = c.submit({ agent: 'echo', input: { n: variant === 'changed' ? 2 : 1, text: 'hi' } });
  const r1 = await echo.done;
  await c.listJobs();
  if (variant === 'extra') await c.listJobs();
  let r2: unknown;
  if (variant !== 'skip') {
    const prog = c.submit({ agent: 'progress', input: { total: 3, tickMs: 1 } });
    r2 = (await prog.done).result;
  }
  await c.close();
  return { r1: r1.result, r2, jobId: echo.jobId };
}

/** What the client under test actually received, and how its connection ended. */
interface Tap {
  frames: string[];
  close?: { code?: number; reason?: string };
}

beforeAll(async () => {
  const rt = await startRuntime();
  path = tape('session.tape');
  const rec = await record({ tape: path, ws: { upstream: rt.url } });
  await session(rec.addresses.ws!);
  await rec.stop();
  await rt.close();
});

const replay = (o: Partial<ServeReplayOptions> = {}) => serveReplay({ tape: path, listen: {}, timeoutMs: 1500, ...o });
/** Runs a deviating client until the replay reports (after a divergence the client may wait forever). */
const against = (r: Awaited<ReturnType<typeof replay>>, variant: Parameters<typeof session>[1]) =>
  Promise.race([session(r.addresses.ws!, variant).catch(() => undefined), r.done]).then(() => r.done);

describe('arcp replay as the runtime (the client is under test)', () => {
  it('the same client code against the tape: clean, byte-exact, replay fingerprint equals the tape\'s', async () => {
    const r = await replay();
    const out = await session(r.addresses.ws!);
    expect(out.r1).toEqual({ echoed: { n: 1, text: 'hi' } });
    expect(out.r2).toEqual({ indexed: 3 });
    const report = await r.done;
    expect(report.divergences).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.replayFingerprint).toBe(report.tapeFingerprint);
    expect(report.frames.replayed).toBe(report.frames.total);
    // The live client's message ids differ from the recorded ones; echoed ones are substituted.
    expect(report.substitutions).toEqual([expect.objectContaining({ count: 1, to: expect.stringMatching(/^msg_/) })]);
  });

  it('a client that changes one field diverges at that frame, naming the pointer and both values', async () => {
    const report = await against(await replay(), 'changed');
    expect(report.ok).toBe(false);
    const [d] = report.divergences;
    expect(d.reason).toBe('mismatch');
    expect(d.fields.filter((f) => !f.tolerated)).toEqual([{ pointer: '/payload/input/n', expected: 1, actual: 2, rule: 'exact', tolerated: false }]);
    expect(d.fields.find((f) => f.pointer === '/id')).toMatchObject({ rule: 'preset: message id', tolerated: true });
    expect(d.context.find((c) => c.here)?.what).toBe('job.submit');
    expect(d.context.length).toBeGreaterThan(1);
  });

  it('a client that skips a frame, or sends an extra one, diverges at the right seq', async () => {
    const s = await against(await replay(), 'skip');
    expect(s.divergences[0]).toMatchObject({ reason: 'mismatch' });
    expect(s.divergences[0].fields.find((f) => f.pointer === '/type')).toMatchObject({ expected: 'job.submit', actual: 'session.close' });

    const e = await against(await replay(), 'extra');
    expect(e.divergences[0].fields.find((f) => f.pointer === '/type')).toMatchObject({ expected: 'job.submit', actual: 'session.list_jobs' });
    expect(e.divergences[0].seq).toBe(s.divergences[0].seq);
    expect(e.divergences[0].context.find((c) => c.here)?.what).toBe('job.submit');
  });

  it('--pace recorded keeps the recorded gaps (scaled by --speed); --continue collects every divergence', async () => {
    const { showTape } = await import('../../src/tape/inspect.js');
    const v = showTape(path);
    const rows = [...v.timeline];
    v.close();
    // Pacing stretches the runtime's gaps (recorded time before each runtime frame); the client's own time is live.
    const msgs = rows.filter((r) => r.dir !== 'meta');
    const runtimeMs = msgs.reduce((sum, r, i) => sum + (i && r.dir === 's2c' ? (r.mono_us - msgs[i - 1].mono_us) / 1000 : 0), 0);
    const paced = await replay({ pace: 'recorded', speed: 0.5 });
    const t0 = performance.now();
    await session(paced.addresses.ws!);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(runtimeMs / 0.5 - 2);
    expect((await paced.done).ok).toBe(true);

    const all = await against(await replay({ keepGoing: true }), 'changed');
    expect(all.divergences.length).toBeGreaterThan(0);
    // Going on past the changed submit, the client's later frames still match: only the one field differs.
    expect(all.divergences.flatMap((d) => d.fields.filter((f) => !f.tolerated).map((f) => f.pointer))).toEqual(['/payload/input/n']);
  });

  it('faults: a duplicated event and a delay are survived by the client; a drop ends the connection', async () => {
    const seqOf = async (what: string) => {
      const { showTape } = await import('../../src/tape/inspect.js');
      const v = showTape(path);
      try {
        for (const row of v.timeline) if (row.what.startsWith(what)) return row.seq;
      } finally {
        v.close();
      }
      throw new Error(what);
    };
    const ev = await seqOf('job.event progress');
    const bytesOf = async (seq: number) => {
      const { readFrames } = await import('../helpers/tape.js');
      return readFrames(path).find((f) => f.seq === seq)!.data.toString();
    };
    const evBytes = await bytesOf(ev);
    const r = await replay({ faults: [parseFault(`duplicate@${ev}`), parseFault(`delay@${ev}=150`)] });
    const tap: Tap = { frames: [] };
    const t0 = Date.now();
    const out = await session(r.addresses.ws!, 'same', tap);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    expect(out.r2).toEqual({ indexed: 3 });
    // The effect, at the client: that event arrived twice, byte for byte.
    expect(tap.frames.filter((f) => f === evBytes)).toHaveLength(2);
    const report = await r.done;
    expect(report.notes).toEqual(expect.arrayContaining([`fault: sent frame ${ev} twice`, `fault: delayed frame ${ev} by 150 ms`]));

    // A drop: the client's connection ends abnormally (no close frame) right after that frame.
    const dropped = await replay({ faults: [parseFault(`drop@${ev}`)] });
    const dtap: Tap = { frames: [] };
    await Promise.race([session(dropped.addresses.ws!, 'same', dtap).catch(() => undefined), dropped.done]);
    const dr = await dropped.done;
    await until(() => dtap.close !== undefined, 3000, 'the client to see the connection end');
    expect(dtap.close?.code).toBe(1006);
    expect(dtap.frames[dtap.frames.length - 1]).toBe(evBytes);
    expect(dr.notes).toContain(`fault: dropped the connection after frame ${ev}`);
  });

  it('a drop ends that connection at once, although the replay goes on (a second recorded connection is still to come)', async () => {
    const rt = await startRuntime();
    const two = tape('two-sessions.tape');
    const rec = await record({ tape: two, ws: { upstream: rt.url } });
    await session(rec.addresses.ws!);
    await session(rec.addresses.ws!);
    await rec.stop();
    await rt.close();
    const { readFrames } = await import('../helpers/tape.js');
    const first = readFrames(two).find((f) => f.dir === 's2c' && f.data.toString().includes('"progress"'))!;
    // Ten seconds of patience for the second client: only the drop itself can end the first connection soon.
    const r = await serveReplay({ tape: two, listen: {}, timeoutMs: 10_000, faults: [parseFault(`drop@${first.seq}`)] });
    onTestFinished(async () => void (await r.stop()));
    let over = false;
    void r.done.then(() => (over = true));
    const tap: Tap = { frames: [] };
    void session(r.addresses.ws!, 'same', tap).catch(() => undefined);
    await until(() => tap.close !== undefined, 3000, 'the first connection to be dropped');
    expect(tap.close?.code).toBe(1006);
    expect(tap.frames.at(-1)).toBe(first.data.toString());
    expect(over).toBe(false);
  });
});
