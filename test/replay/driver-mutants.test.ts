import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { connectWebSocket } from '../../src/engine/transport/websocket.js';
import { driveReplay, driveUntil } from '../../src/replay/driver.js';
import type { ChannelKind, FrameKind } from '../../src/tape/format.js';
import { defaultRules } from '../../src/tape/redact.js';
import { TapeWriter } from '../../src/tape/writer.js';
import { readFrames, scriptedTape, tapeDir, type ScriptRow } from '../helpers/tape.js';

// Small tapes played by `driveReplay` to scripted runtimes in this process: each test well under
// a second, so the driver's mutants can be judged (the replay tests that run whole runtimes are too slow).

const tape = tapeDir();
let n = 0;

type Row = ScriptRow;

async function writeTape(...channels: Row[][]): Promise<string> {
  return writeTapeOf('ws', ...channels);
}

const writeTapeOf = (kind: ChannelKind, ...channels: Row[][]): Promise<string> => scriptedTape(tape(`t${++n}.tape`), kind, channels);

const hello = (sess?: string) => JSON.stringify({ arcp: '1.1', id: 'msg_h', type: 'session.hello', ...(sess ? { session_id: sess } : {}), payload: { client: { name: 't', version: '1' }, capabilities: { encodings: ['json'] } } });
const welcome = (sess: string) => JSON.stringify({ arcp: '1.1', id: `msg_w_${sess}`, type: 'session.welcome', session_id: sess, payload: { runtime: { name: 't', version: '1' }, resume_token: `rt_${sess}`, resume_window_sec: 60 } });
const submit = (sess: string) => JSON.stringify({ arcp: '1.1', id: 'msg_s', type: 'job.submit', session_id: sess, payload: { agent: 'echo' } });
const accepted = (sess: string, job: string) => JSON.stringify({ arcp: '1.1', id: `msg_a_${job}`, type: 'job.accepted', session_id: sess, payload: { job_id: job } });
const event = (sess: string, job: string, seq: number, text = `line ${seq}`) => JSON.stringify({ arcp: '1.1', id: `msg_e_${job}_${seq}`, type: 'job.event', session_id: sess, job_id: job, event_seq: seq, payload: { kind: 'log', body: { message: text } } });
const cancel = (sess: string, job: string) => JSON.stringify({ arcp: '1.1', id: 'msg_c', type: 'job.cancel', session_id: sess, job_id: job, payload: {} });
const result = (sess: string, job: string, status = 'cancelled') => JSON.stringify({ arcp: '1.1', id: `msg_r_${job}`, type: 'job.result', session_id: sess, job_id: job, payload: { status } });
const notice = (sess: string) => JSON.stringify({ arcp: '1.1', id: 'msg_n', type: 'session.notice', session_id: sess, payload: { text: 'hi' } });
const close = (code = 1000) => JSON.stringify({ code, reason: '' });

/** The recorded conversation: hello, a job with two events, a cancel, its result, the client's close. */
const recorded = (): Row[] => [
  ['c2s', 'ws.text', hello()],
  ['s2c', 'ws.text', welcome('sess_1')],
  ['c2s', 'ws.text', submit('sess_1')],
  ['s2c', 'ws.text', accepted('sess_1', 'job_1')],
  ['s2c', 'ws.text', event('sess_1', 'job_1', 1)],
  ['s2c', 'ws.text', event('sess_1', 'job_1', 2)],
  ['c2s', 'ws.text', cancel('sess_1', 'job_1')],
  ['s2c', 'ws.text', result('sess_1', 'job_1')],
  ['c2s', 'ws.close', close()],
];

interface Peer {
  url: string;
  /** What each connection received, in order (close frames as `close <code>`). */
  got: string[][];
  /** Whether each frame received came as binary. */
  binary: boolean[][];
}

/** A runtime that answers each client frame by type, with live ids of its own (`sess_L`, `job_L`). */
type Answer = (type: string, ws: WebSocket, msg: Record<string, unknown>) => void;

const live: Answer = (type, ws) => {
  if (type === 'session.hello') ws.send(welcome('sess_L'));
  if (type === 'job.submit') {
    ws.send(accepted('sess_L', 'job_L'));
    ws.send(event('sess_L', 'job_L', 1));
    ws.send(event('sess_L', 'job_L', 2));
  }
  if (type === 'job.cancel') ws.send(result('sess_L', 'job_L'));
};

async function peer(answer: Answer = live): Promise<Peer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  onTestFinished(
    () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  );
  const got: string[][] = [];
  const binary: boolean[][] = [];
  wss.on('connection', (ws) => {
    const mine: string[] = [];
    const kinds: boolean[] = [];
    got.push(mine);
    binary.push(kinds);
    ws.on('message', (d, isBinary) => {
      const text = String(d);
      mine.push(text);
      kinds.push(isBinary);
      const msg = JSON.parse(text) as Record<string, unknown>;
      answer(String(msg.type), ws, msg);
    });
    ws.on('close', (code) => mine.push(`close ${code}`));
  });
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, got, binary };
}

/** Waits for `done` (bounded). */
async function until(done: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const seqOf = (path: string, pred: (data: string) => boolean) => readFrames(path).find((f) => pred(f.data.toString()))!.seq;

describe('driveReplay against scripted runtimes', () => {
  it('a runtime that answers as recorded, with ids of its own: clean, every frame played, live ids sent back', async () => {
    const path = await writeTape(recorded());
    const p = await peer();
    const progress = { frames: 0, total: 0 };
    const r = await driveReplay({ tape: path, target: p.url, timeoutMs: 1000, progress });
    expect(r.divergences).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.mode).toBe('client');
    expect(r.frames).toEqual({ total: 9, replayed: 9 });
    expect(progress.frames).toBe(9);
    expect(p.got).toHaveLength(1);
    await until(() => p.got[0]?.length === 4);
    const [h, s, c, end] = p.got[0];
    expect(JSON.parse(h).type).toBe('session.hello');
    expect(JSON.parse(s)).toMatchObject({ type: 'job.submit', session_id: 'sess_L' });
    expect(JSON.parse(c)).toMatchObject({ type: 'job.cancel', session_id: 'sess_L', job_id: 'job_L' });
    expect(end).toBe('close 1000');
    expect(r.substitutions).toEqual(expect.arrayContaining([expect.objectContaining({ from: 'job_1', to: 'job_L' }), expect.objectContaining({ from: 'sess_1', to: 'sess_L' })]));
  });

  it('a changed value: a mismatch at that frame, naming the field', async () => {
    const path = await writeTape(recorded());
    const p = await peer((type, ws, m) => {
      if (type === 'job.submit') {
        ws.send(accepted('sess_L', 'job_L'));
        ws.send(event('sess_L', 'job_L', 1));
        ws.send(event('sess_L', 'job_L', 2, 'something else'));
      } else live(type, ws, m);
    });
    const r = await driveReplay({ tape: path, target: p.url, timeoutMs: 1000 });
    expect(r.ok).toBe(false);
    expect(r.divergences).toHaveLength(1);
    const d = r.divergences[0];
    expect(d).toMatchObject({ reason: 'mismatch', channel: 1, seq: seqOf(path, (s) => s.includes('line 2')), dir: 's2c' });
    expect(d.fields.filter((f) => !f.tolerated)).toEqual([expect.objectContaining({ pointer: '/payload/body/message', expected: 'line 2', actual: 'something else', tolerated: false })]);
    expect(d.expected).toContain('line 2');
    expect(d.actual).toContain('something else');
    expect(d.message).toMatch(/job\.event/);
    expect(d.context.find((c) => c.here)?.seq).toBe(d.seq);
    // It stopped there: the cancel was never sent.
    expect(r.frames.replayed).toBeLessThan(r.frames.total);
  });

  it('a frame the runtime never sends: missing, once the idle timeout passes', async () => {
    const path = await writeTape(recorded());
    const p = await peer((type, ws, m) => type !== 'job.cancel' && live(type, ws, m));
    const t0 = Date.now();
    const r = await driveReplay({ tape: path, target: p.url, timeoutMs: 300 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect(r.divergences).toHaveLength(1);
    expect(r.divergences[0]).toMatchObject({ reason: 'missing', seq: seqOf(path, (s) => s.includes('job.result')), dir: 's2c', message: expect.stringContaining('within 0.3 s') });
    expect(r.divergences[0].expected).toContain('job.result');
  });

  it('a frame the recording does not have: extra, with its type', async () => {
    const path = await writeTape(recorded());
    const p = await peer((type, ws, m) => {
      if (type === 'job.cancel') ws.send(notice('sess_L'));
      live(type, ws, m);
    });
    const r = await driveReplay({ tape: path, target: p.url, timeoutMs: 1000 });
    expect(r.divergences).toHaveLength(1);
    expect(r.divergences[0]).toMatchObject({ reason: 'extra', seq: 0, channel: 1, dir: 's2c', message: expect.stringContaining('session.notice') });
    expect(r.divergences[0].actual).toContain('session.notice');
    expect(r.ok).toBe(false);
  });

  it('a runtime that closes early: closed, at the first frame it still owed', async () => {
    const path = await writeTape(recorded());
    const p = await peer((type, ws) => {
      if (type === 'session.hello') ws.send(welcome('sess_L'));
      if (type === 'job.submit') {
        ws.send(accepted('sess_L', 'job_L'));
        ws.send(event('sess_L', 'job_L', 1));
        ws.close(1011);
      }
    });
    const r = await driveReplay({ tape: path, target: p.url, timeoutMs: 5000 });
    expect(r.divergences).toHaveLength(1);
    expect(r.divergences[0]).toMatchObject({ reason: 'closed', seq: seqOf(path, (s) => s.includes('line 2')), message: expect.stringContaining('closed the connection') });
  });

  it('a runtime that closes with another code than recorded: mismatch on /code; the same code is clean', async () => {
    const rows: Row[] = [...recorded().slice(0, 6), ['s2c', 'ws.close', close(4000)]];
    const path = await writeTape(rows);
    const closeWith = (code: number) => (type: string, ws: WebSocket, m: Record<string, unknown>) => {
      live(type, ws, m);
      if (type === 'job.submit') ws.close(code);
    };
    const same = await driveReplay({ tape: path, target: (await peer(closeWith(4000))).url, timeoutMs: 1000 });
    expect(same.divergences).toEqual([]);
    expect(same.frames.replayed).toBe(same.frames.total);
    const other = await driveReplay({ tape: path, target: (await peer(closeWith(4001))).url, timeoutMs: 1000 });
    expect(other.divergences).toHaveLength(1);
    expect(other.divergences[0]).toMatchObject({ reason: 'mismatch', seq: 7, message: expect.stringContaining('4001') });
    expect(other.divergences[0].fields).toEqual([expect.objectContaining({ pointer: '/code', expected: 4000, actual: 4001 })]);
  });

  it('an event_seq gap: order, at the frame after the gap, expecting the next number', async () => {
    const path = await writeTape(recorded());
    const p = await peer((type, ws, m) => {
      if (type === 'job.submit') {
        ws.send(accepted('sess_L', 'job_L'));
        ws.send(event('sess_L', 'job_L', 1));
        ws.send(event('sess_L', 'job_L', 3, 'line 2'));
      } else live(type, ws, m);
    });
    const r = await driveReplay({ tape: path, target: p.url, timeoutMs: 1000 });
    expect(r.divergences).toHaveLength(1);
    expect(r.divergences[0]).toMatchObject({ reason: 'order', seq: seqOf(path, (s) => s.includes('line 2')), dir: 's2c', message: 'event_seq went from 1 to 3: the session\'s sequence must be gap-free' });
    expect(r.divergences[0].fields).toEqual([expect.objectContaining({ pointer: '/event_seq', expected: 2, actual: 3 })]);
    expect(r.divergences[0].actual).toContain('"event_seq":3');
  });

  it('keepGoing: both changed values are reported, and the replay plays on to the end', async () => {
    const path = await writeTape(recorded());
    const p = await peer((type, ws, m) => {
      if (type === 'job.submit') {
        ws.send(accepted('sess_L', 'job_L'));
        ws.send(event('sess_L', 'job_L', 1, 'first changed'));
        ws.send(event('sess_L', 'job_L', 2, 'second changed'));
      } else live(type, ws, m);
    });
    const r = await driveReplay({ tape: path, target: p.url, timeoutMs: 1000, keepGoing: true });
    expect(r.divergences.map((d) => [d.reason, d.seq])).toEqual([
      ['mismatch', seqOf(path, (s) => s.includes('line 1'))],
      ['mismatch', seqOf(path, (s) => s.includes('line 2'))],
    ]);
    expect(r.frames.replayed).toBe(r.frames.total);
    await until(() => p.got[0]?.at(-1) === 'close 1000');
    const stopped = await driveReplay({ tape: path, target: p.url, timeoutMs: 1000 });
    expect(stopped.divergences).toHaveLength(1);
  });

  it("the runtime's pings are answered live with its nonce; the recorded pong is not sent", async () => {
    const ping = (nonce: string) => JSON.stringify({ arcp: '1.1', id: `msg_p_${nonce}`, type: 'session.ping', session_id: 'sess_L', payload: { nonce } });
    const pong = JSON.stringify({ arcp: '1.1', id: 'msg_pong', type: 'session.pong', session_id: 'sess_1', payload: { ping_nonce: 'n_rec', received_at: '2026-01-01T00:00:00Z' } });
    const rows = recorded();
    rows.splice(2, 0, ['s2c', 'ws.text', ping('n_rec').replace('sess_L', 'sess_1')], ['c2s', 'ws.text', pong]);
    const path = await writeTape(rows);
    const p = await peer((type, ws, m) => {
      if (type === 'session.hello') {
        ws.send(welcome('sess_L'));
        ws.send(ping('n_live'));
        return;
      }
      live(type, ws, m);
    });
    const r = await driveReplay({ tape: path, target: p.url, timeoutMs: 1000 });
    expect(r.divergences).toEqual([]);
    expect(r.notes).toContain("answered the runtime's session.ping live");
    await until(() => p.got[0]?.at(-1) === 'close 1000');
    const pongs = p.got[0].filter((s) => s.includes('session.pong')).map((s) => JSON.parse(s));
    expect(pongs).toHaveLength(1);
    expect(pongs[0].payload.ping_nonce).toBe('n_live');
  });

  it('a redacted bearer token: the real one from --token goes out; without it, a note says so', async () => {
    const withAuth = (token: string) => JSON.stringify({ ...JSON.parse(hello()), payload: { client: { name: 't', version: '1' }, auth: { scheme: 'bearer', token } } });
    const rows = recorded();
    rows[0] = ['c2s', 'ws.text', withAuth('secret')];
    const path = await writeTape(rows);
    expect(readFrames(path)[0].data.toString()).not.toContain('secret');
    const p = await peer();
    const r = await driveReplay({ tape: path, target: p.url, timeoutMs: 1000, token: 'real-token' });
    expect(r.divergences).toEqual([]);
    await until(() => p.got[0]?.length > 0);
    expect(JSON.parse(p.got[0][0]).payload.auth.token).toBe('real-token');
    expect(r.notes.join('\n')).not.toMatch(/bearer token was redacted/);
    const bare = await driveReplay({ tape: path, target: (await peer()).url, timeoutMs: 1000 });
    expect(bare.notes).toContain('the recorded bearer token was redacted: pass --token with the real one if the runtime rejects the session');
  });

  it('a recorded binary frame goes out binary, text as text', async () => {
    const rows = recorded();
    rows[2] = ['c2s', 'ws.binary', submit('sess_1')];
    const path = await writeTape(rows);
    const p = await peer();
    const r = await driveReplay({ tape: path, target: p.url, timeoutMs: 1000 });
    expect(r.divergences).toEqual([]);
    await until(() => p.got[0]?.length === 4);
    expect(p.binary[0].slice(0, 3)).toEqual([false, true, false]);
  });

  it("the client's timestamps move by the time since recording; the runtime's echo of one is no divergence", async () => {
    const at = '2026-01-01T00:00:00.000Z';
    const moved = '2026-01-01T01:00:00.000Z';
    const rows = recorded();
    rows[2] = ['c2s', 'ws.text', JSON.stringify({ ...JSON.parse(submit('sess_1')), payload: { agent: 'echo', lease_constraints: { expires_at: at } } })];
    rows[3] = ['s2c', 'ws.text', JSON.stringify({ ...JSON.parse(accepted('sess_1', 'job_1')), payload: { job_id: 'job_1', expires_at: at } })];
    const path = await writeTape(rows);
    const wall = readFrames(path)[2].wall_ms;
    const p = await peer((type, ws, m) => {
      if (type === 'job.submit') {
        const sent = (m.payload as { lease_constraints: { expires_at: string } }).lease_constraints.expires_at;
        ws.send(JSON.stringify({ ...JSON.parse(accepted('sess_L', 'job_L')), payload: { job_id: 'job_L', expires_at: sent } }));
        ws.send(event('sess_L', 'job_L', 1));
        ws.send(event('sess_L', 'job_L', 2));
      } else live(type, ws, m);
    });
    const r = await driveReplay({ tape: path, target: p.url, timeoutMs: 1000, now: () => wall + 3_600_000 });
    expect(r.divergences).toEqual([]);
    await until(() => p.got[0]?.length >= 2);
    expect(JSON.parse(p.got[0][1]).payload.lease_constraints.expires_at).toBe(moved);
    expect(r.notes).toContain('moved 1 timestamp(s) the recorded client chose by +1h (the time since recording), keeping their offsets');
  });

  it('two connections play in the recorded order: the second resumes with the live resume token the first was given', async () => {
    const resume = (token: string) => JSON.stringify({ arcp: '1.1', id: 'msg_res', type: 'session.hello', payload: { client: { name: 't', version: '1' }, resume: { resume_token: token } } });
    const first: Row[] = [
      ['c2s', 'ws.text', hello()],
      ['s2c', 'ws.text', welcome('sess_1')],
    ];
    const path = tape(`t${++n}.tape`);
    const w = await TapeWriter.create({ path, commandLine: ['test'], redaction: defaultRules() });
    const a = w.channel('ws', 'a');
    const b = w.channel('ws', 'b');
    for (const [dir, kind, data] of first) w.frame(a, dir, kind, data);
    w.frame(b, 'c2s', 'ws.text', resume('rt_sess_1'));
    w.frame(b, 's2c', 'ws.text', welcome('sess_1'));
    w.frame(b, 'c2s', 'ws.close', close());
    w.frame(a, 'c2s', 'ws.close', close());
    await w.close();
    let welcomed = 0;
    const p = await peer((type, ws) => {
      if (type !== 'session.hello') return;
      // The first welcome comes late: the second hello must wait for it.
      if (welcomed++ === 0) setTimeout(() => ws.send(welcome('sess_L')), 100);
      else ws.send(welcome('sess_L'));
    });
    const r = await driveReplay({ tape: path, target: p.url, timeoutMs: 1000 });
    expect(r.divergences).toEqual([]);
    expect(r.frames).toEqual({ total: 6, replayed: 6 });
    await until(() => p.got.length === 2 && p.got[1].length > 0);
    expect(JSON.parse(p.got[1][0]).payload.resume.resume_token).toBe('rt_sess_L');
  });

  it('a recorded drop (terminate) drops the live connection too, with a note', async () => {
    const rows: Row[] = [...recorded().slice(0, 2), ['meta', 'transport.close', JSON.stringify({ terminate: true })]];
    const path = await writeTape(rows);
    const p = await peer();
    const r = await driveReplay({ tape: path, target: p.url, timeoutMs: 1000 });
    expect(r.divergences).toEqual([]);
    expect(r.notes).toContain('frame 3: the recorded client dropped the connection; replay dropped it too');
    await until(() => p.got[0]?.at(-1)?.startsWith('close') === true);
    expect(p.got[0].at(-1)).toBe('close 1006');
  });

  it('a recorded vanish (1006): what the runtime sends meanwhile is noted, not judged', async () => {
    const rows: Row[] = [...recorded().slice(0, 2), ['c2s', 'ws.close', close(1006)]];
    const path = await writeTape(rows);
    const p = await peer((type, ws) => {
      if (type === 'session.hello') {
        // In the same write as the welcome: it arrives before the replay drops the connection.
        ws.send(welcome('sess_L'));
        ws.send(notice('sess_L'));
      }
    });
    const r = await driveReplay({ tape: path, target: p.url, timeoutMs: 1000 });
    expect(r.divergences).toEqual([]);
    expect(r.notes).toContain('connection 1: 1 frame(s) the runtime sent while the recorded client vanished were not judged (timing)');
    await until(() => p.got[0]?.at(-1)?.startsWith('close') === true);
    expect(p.got[0].at(-1)).toBe('close 1006');
  });

  it('frames recorded after the client closed are timing: not owed, and counted in a note', async () => {
    const rows: Row[] = [...recorded().slice(0, 2), ['c2s', 'ws.close', close()], ['s2c', 'ws.text', notice('sess_1')]];
    const path = await writeTape(rows);
    const p = await peer();
    const r = await driveReplay({ tape: path, target: p.url, timeoutMs: 1000 });
    expect(r.divergences).toEqual([]);
    expect(r.notes).toContain('1 frame(s) the runtime sent after the recorded client closed were not judged (timing)');
  });

  it('nothing to replay against, no ARCP channel, or a runtime that is not there: errors that say so', async () => {
    const path = await writeTape(recorded());
    await expect(driveReplay({ tape: path })).rejects.toMatchObject({ code: 'E_USAGE' });
    const httpOnly = tape(`t${++n}.tape`);
    const w = await TapeWriter.create({ path: httpOnly, commandLine: ['test'], redaction: defaultRules() });
    w.channel('http', 'api');
    await w.close();
    await expect(driveReplay({ tape: httpOnly, target: 'ws://127.0.0.1:1' })).rejects.toMatchObject({ code: 'E_INPUT' });
    await expect(driveReplay({ tape: path, target: 'ws://127.0.0.1:1' })).rejects.toMatchObject({ code: 'E_CONNECT', message: expect.stringContaining('cannot reach ws://127.0.0.1:1') });
  });

  it('driveUntil: plays up to the fork point, then hands the open connection over with what it learnt', async () => {
    const path = await writeTape(recorded());
    const p = await peer();
    const cancelSeq = seqOf(path, (d) => d.includes('job.cancel'));
    const h = await driveUntil({ tape: path, connect: () => connectWebSocket(p.url), timeoutMs: 1000 }, cancelSeq);
    onTestFinished(() => h.closeAll());
    expect(h.report.divergences).toEqual([]);
    expect(h.report.frames.replayed).toBe(cancelSeq - 1);
    expect([...h.connections.keys()]).toEqual([1]);
    const cancelFrame = readFrames(path).find((f) => f.seq === cancelSeq)!;
    expect(JSON.parse(h.outgoing(cancelFrame).toString())).toMatchObject({ session_id: 'sess_L', job_id: 'job_L' });
    h.learn('msg_c', 'msg_live');
    expect(JSON.parse(h.outgoing(cancelFrame).toString()).id).toBe('msg_live');
    // Not closed by the replay: the connection still carries what is sent on it.
    h.connections.get(1)!.send(h.outgoing(cancelFrame));
    await until(() => p.got[0]?.length === 3);
    h.closeAll();
    await until(() => p.got[0]?.at(-1)?.startsWith('close') === true);
    await expect(driveUntil({ tape: path, target: p.url }, 3)).rejects.toMatchObject({ code: 'E_USAGE' });
  });

  it('driveUntil judges nothing after the fork point: a frame the recording lacks is not an extra there', async () => {
    const path = await writeTape(recorded());
    const p = await peer((type, ws, m) => {
      live(type, ws, m);
      if (type === 'job.submit') ws.send(notice('sess_L'));
    });
    const h = await driveUntil({ tape: path, connect: () => connectWebSocket(p.url), timeoutMs: 1000 }, seqOf(path, (d) => d.includes('job.cancel')));
    onTestFinished(() => h.closeAll());
    expect(h.report.divergences).toEqual([]);
    // The same runtime, replayed to the end: the notice is an extra.
    const r = await driveReplay({ tape: path, target: p.url, timeoutMs: 1000 });
    expect(r.divergences.map((d) => d.reason)).toEqual(['extra']);
  });

  it('a missing frame names what the runtime sent instead', async () => {
    const path = await writeTape(recorded());
    const p = await peer((type, ws, m) => (type === 'job.cancel' ? ws.send(notice('sess_L')) : live(type, ws, m)));
    const r = await driveReplay({ tape: path, target: p.url, timeoutMs: 300 });
    expect(r.divergences).toHaveLength(1);
    expect(r.divergences[0]).toMatchObject({ reason: 'missing', seq: 8 });
    expect(r.divergences[0].actual).toContain('session.notice');
  });

  it('volatile pointers: a value the user ignores may differ', async () => {
    const path = await writeTape(recorded());
    const p = await peer((type, ws, m) => {
      if (type === 'job.submit') {
        ws.send(accepted('sess_L', 'job_L'));
        ws.send(event('sess_L', 'job_L', 1, 'changed'));
        ws.send(event('sess_L', 'job_L', 2));
      } else live(type, ws, m);
    });
    const r = await driveReplay({ tape: path, target: p.url, timeoutMs: 1000, volatile: { preset: true, pointers: ['/payload/body/message'] } });
    expect(r.divergences).toEqual([]);
  });

  it('the recorder stopped mid-run: the replay closes the same way, with a note; other transport events are passed over', async () => {
    const rows: Row[] = [['meta', 'transport.open', '{}'], ...recorded().slice(0, 2), ['meta', 'transport.close', '{}'], ['meta', 'ws.close', close(1001)]];
    const path = await writeTape(rows);
    const p = await peer();
    const r = await driveReplay({ tape: path, target: p.url, timeoutMs: 1000 });
    expect(r.divergences).toEqual([]);
    expect(r.frames).toEqual({ total: 5, replayed: 5 });
    expect(r.notes).toContain('frame 5: the recording was stopped here by arcp record, which closed both sides with 1001; replay closed the same way');
    await until(() => p.got[0]?.at(-1)?.startsWith('close') === true);
    expect(p.got[0]).toEqual([hello(), 'close 1001']);
  });

  it('after the first divergence the replay stops listening: later frames add nothing', async () => {
    const path = await writeTape(recorded());
    const p = await peer((type, ws, m) => {
      if (type === 'job.submit') {
        ws.send(accepted('sess_L', 'job_L'));
        ws.send(event('sess_L', 'job_L', 1, 'changed'));
        ws.send(event('sess_L', 'job_L', 5, 'line 2'));
        ws.send(notice('sess_L'));
      } else live(type, ws, m);
    });
    const r = await driveReplay({ tape: path, target: p.url, timeoutMs: 1000 });
    expect(r.divergences.map((d) => d.reason)).toEqual(['mismatch']);
  });
});

/** A stdio runtime: answers hello with a welcome; on the end of its input exits with `code` (or never, for -1). */
const child = (code: number) => [
  process.execPath,
  '-e',
  `const rl = require('readline').createInterface({ input: process.stdin });
   rl.on('line', (l) => { if (JSON.parse(l).type === 'session.hello') process.stdout.write(${JSON.stringify(welcome('sess_L'))} + '\\n'); });
   rl.on('close', () => { if (${code} >= 0) process.exit(${code}); else setInterval(() => {}, 1000); });`,
];

describe('driveReplay against a stdio runtime', () => {
  const stdioRows = (exit: number, clientEof = true): Row[] => [
    ['c2s', 'stdio.line', hello()],
    ['s2c', 'stdio.line', welcome('sess_1')],
    ...(clientEof ? [['c2s', 'transport.close', JSON.stringify({ eof: true })] as Row] : []),
    ['s2c', 'transport.close', JSON.stringify({ eof: true })],
    ['meta', 'transport.close', JSON.stringify({ code: exit, reason: 'exit' })],
  ];

  it('a child that exits as recorded: clean', async () => {
    const path = await writeTapeOf('stdio', stdioRows(0));
    const r = await driveReplay({ tape: path, command: child(0), timeoutMs: 2000 });
    expect(r.divergences).toEqual([]);
    expect(r.frames.replayed).toBe(r.frames.total);
    expect(r.notes.join('\n')).not.toMatch(/ended its input/);
  });

  it('a child that exits with another code: mismatch on /code at the exit', async () => {
    const path = await writeTapeOf('stdio', stdioRows(0));
    const r = await driveReplay({ tape: path, command: child(3), timeoutMs: 2000 });
    expect(r.divergences).toHaveLength(1);
    expect(r.divergences[0]).toMatchObject({ reason: 'mismatch', seq: 5, dir: 'meta', message: 'the runtime exited with 3; the recorded one exited with 0' });
    expect(r.divergences[0].fields).toEqual([expect.objectContaining({ pointer: '/code', expected: 0, actual: 3 })]);
  });

  it('a tape that does not say who ended first: the replay ends the input after a grace, with a note', async () => {
    const path = await writeTapeOf('stdio', stdioRows(0, false));
    const r = await driveReplay({ tape: path, command: child(0), timeoutMs: 2000 });
    expect(r.divergences).toEqual([]);
    expect(r.notes).toContain('frame 4: the recorded runtime exited; replay ended its input so it can');
  });

  it('a child that does not exit: missing, after the timeout', async () => {
    const path = await writeTapeOf('stdio', stdioRows(0));
    const r = await driveReplay({ tape: path, command: child(-1), timeoutMs: 300 });
    expect(r.divergences).toHaveLength(1);
    expect(r.divergences[0]).toMatchObject({ reason: 'missing', seq: 5, dir: 'meta', message: 'the runtime did not exit within 0.3 s (the recorded one exited with 0)' });
  });
});
