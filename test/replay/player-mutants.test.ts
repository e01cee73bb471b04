import { PassThrough } from 'node:stream';
import { describe, expect, it, onTestFinished } from 'vitest';
import { WebSocket } from 'ws';
import { serveReplay, type ServeReplayOptions } from '../../src/replay/serve.js';
import type { ChannelKind, FrameKind } from '../../src/tape/format.js';
import { defaultRules } from '../../src/tape/redact.js';
import { TapeWriter } from '../../src/tape/writer.js';
import { readFrames, scriptedTape, tapeDir, type ScriptRow } from '../helpers/tape.js';

// Small tapes whose runtime side the player serves to scripted clients in this process: each test
// well under a second, so the player's mutants can be judged (the CLI replay tests are too slow).

const tape = tapeDir();
let n = 0;

type Row = ScriptRow;

async function writeTape(...channels: Row[][]): Promise<string> {
  return writeTapeOf('ws', ...channels);
}

const writeTapeOf = (kind: ChannelKind, ...channels: Row[][]): Promise<string> => scriptedTape(tape(`t${++n}.tape`), kind, channels, true);

const hello = (id = 'msg_h') => JSON.stringify({ arcp: '1.1', id, type: 'session.hello', payload: { client: { name: 't', version: '1' } } });
const welcome = JSON.stringify({ arcp: '1.1', id: 'msg_w', type: 'session.welcome', session_id: 'sess_1', payload: { runtime: { name: 't', version: '1' } } });
const submit = (id = 'msg_s', agent = 'echo') => JSON.stringify({ arcp: '1.1', id, type: 'job.submit', session_id: 'sess_1', payload: { agent } });
const accepted = JSON.stringify({ arcp: '1.1', id: 'msg_a', type: 'job.accepted', session_id: 'sess_1', payload: { job_id: 'job_1', request_id: 'msg_s' } });
const event = (seq: number) => JSON.stringify({ arcp: '1.1', id: `msg_e${seq}`, type: 'job.event', session_id: 'sess_1', job_id: 'job_1', event_seq: seq, payload: { kind: 'log', body: { message: `line ${seq}` } } });
const cancel = (reason = 'enough') => JSON.stringify({ arcp: '1.1', id: 'msg_c', type: 'job.cancel', session_id: 'sess_1', job_id: 'job_1', payload: { reason } });
const result = JSON.stringify({ arcp: '1.1', id: 'msg_r', type: 'job.result', session_id: 'sess_1', job_id: 'job_1', payload: { status: 'cancelled' } });
const close = (code = 1000) => JSON.stringify({ code, reason: '' });

const recorded = (): Row[] => [
  ['c2s', 'ws.text', hello()],
  ['s2c', 'ws.text', welcome],
  ['c2s', 'ws.text', submit()],
  ['s2c', 'ws.text', accepted],
  ['s2c', 'ws.text', event(1)],
  ['s2c', 'ws.text', event(2)],
  ['c2s', 'ws.text', cancel()],
  ['s2c', 'ws.text', result],
  ['c2s', 'ws.close', close()],
];

async function serve(path: string, o: Partial<ServeReplayOptions> = {}) {
  const s = await serveReplay({ tape: path, listen: { host: '127.0.0.1', port: 0 }, timeoutMs: 1000, connectTimeoutMs: 2000, ...o });
  onTestFinished(() => void s.stop());
  return s;
}

/** A live client: what it received (close as `close <code>`), and how to send and wait. */
async function client(url: string) {
  const ws = new WebSocket(url);
  onTestFinished(() => ws.terminate());
  const got: string[] = [];
  const arrived: number[] = [];
  ws.on('message', (d) => {
    got.push(String(d));
    arrived.push(Date.now());
  });
  ws.on('close', (code) => got.push(`close ${code}`));
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  return {
    ws,
    got,
    arrived,
    send: (s: string) => ws.send(s),
    /** Waits (bounded) until `k` frames have arrived, or the connection closed. */
    has: (k: number) => until(() => got.length >= k || got.at(-1)?.startsWith('close') === true),
    closed: () => until(() => got.at(-1)?.startsWith('close') === true),
  };
}

async function until(done: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The recorded client, played live: hello, submit (with its own message id), cancel, close. */
async function playClient(url: string, o: { submitId?: string; agent?: string; reason?: string; closeCode?: number } = {}) {
  const c = await client(url);
  c.send(hello());
  await c.has(1);
  c.send(submit(o.submitId, o.agent));
  await c.has(4);
  c.send(cancel(o.reason));
  await c.has(5);
  if (!c.got.at(-1)?.startsWith('close')) c.ws.close(o.closeCode ?? 1000);
  await c.closed();
  return c;
}

describe('the player against scripted clients', () => {
  it('a client that plays as recorded: the recorded frames, with its own message id echoed back; clean', async () => {
    const path = await writeTape(recorded());
    const s = await serve(path);
    const c = await playClient(s.addresses.ws!, { submitId: 'msg_live_s' });
    const r = await s.done;
    expect(r.divergences).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.mode).toBe('runtime');
    expect(r.frames).toEqual({ total: 9, replayed: 9 });
    expect(c.got.slice(0, 5)).toEqual([welcome, accepted.replace('msg_s', 'msg_live_s'), event(1), event(2), result]);
  });

  it('a changed value: mismatch at the client frame, naming the field; the connection is closed with 1011', async () => {
    const path = await writeTape(recorded());
    const s = await serve(path);
    const c = await playClient(s.addresses.ws!, { agent: 'other' });
    const r = await s.done;
    expect(r.divergences).toHaveLength(1);
    expect(r.divergences[0]).toMatchObject({ reason: 'mismatch', seq: 3, channel: 1, dir: 'c2s', message: "the client's job.submit differs from the recorded job.submit" });
    expect(r.divergences[0].fields.filter((f) => !f.tolerated)).toEqual([expect.objectContaining({ pointer: '/payload/agent', expected: 'echo', actual: 'other' })]);
    expect(r.divergences[0].context.find((x) => x.here)?.seq).toBe(3);
    expect(c.got).toEqual([welcome, 'close 1011']);
  });

  it('keepGoing: each mismatch is reported, and the recording plays on', async () => {
    const path = await writeTape(recorded());
    const s = await serve(path, { keepGoing: true });
    const c = await playClient(s.addresses.ws!, { agent: 'other', reason: 'other' });
    const r = await s.done;
    expect(r.divergences.map((d) => [d.reason, d.seq])).toEqual([
      ['mismatch', 3],
      ['mismatch', 7],
    ]);
    expect(c.got.slice(0, 5)).toEqual([welcome, accepted, event(1), event(2), result]);
  });

  it('a client that goes quiet: missing after the timeout, naming what the recording has next', async () => {
    const path = await writeTape(recorded());
    const s = await serve(path, { timeoutMs: 300 });
    const c = await client(s.addresses.ws!);
    c.send(hello());
    const r = await s.done;
    expect(r.divergences).toHaveLength(1);
    expect(r.divergences[0]).toMatchObject({ reason: 'missing', seq: 3, message: expect.stringMatching(/^the client sent nothing for 0\.3 s; the recording has .*job\.submit.* next$/) });
    expect(r.divergences[0].expected).toContain('job.submit');
  });

  it('a client that does not close: missing, naming its close', async () => {
    const path = await writeTape(recorded());
    const s = await serve(path, { timeoutMs: 300 });
    const c = await client(s.addresses.ws!);
    c.send(hello());
    await c.has(1);
    c.send(submit());
    await c.has(4);
    c.send(cancel());
    const r = await s.done;
    expect(r.divergences).toHaveLength(1);
    expect(r.divergences[0]).toMatchObject({ reason: 'missing', seq: 9, message: 'the client sent nothing for 0.3 s; the recording has its close next' });
  });

  it('a client that sends more than recorded: extra, where the recording has its close', async () => {
    const path = await writeTape(recorded());
    const s = await serve(path);
    const c = await client(s.addresses.ws!);
    c.send(hello());
    await c.has(1);
    c.send(submit());
    await c.has(4);
    c.send(cancel());
    await c.has(5);
    c.send(submit('msg_again'));
    const r = await s.done;
    expect(r.divergences).toHaveLength(1);
    expect(r.divergences[0]).toMatchObject({ reason: 'extra', seq: 9, message: expect.stringMatching(/^the client sent a frame where the recording has /) });
    expect(r.divergences[0].actual).toContain('msg_again');
  });

  it('a client that closes early: closed, at the frame the recording goes on with', async () => {
    const path = await writeTape(recorded());
    const s = await serve(path);
    const c = await client(s.addresses.ws!);
    c.send(hello());
    await c.has(1);
    c.ws.close(1000);
    const r = await s.done;
    expect(r.divergences).toHaveLength(1);
    expect(r.divergences[0]).toMatchObject({ reason: 'closed', seq: 3, message: expect.stringMatching(/^the client closed the connection; the recording goes on with .*job\.submit/) });
    expect(r.frames.replayed).toBeLessThan(r.frames.total);
  });

  it('a client that closes with another code: mismatch on /code', async () => {
    const path = await writeTape(recorded());
    const s = await serve(path);
    await playClient(s.addresses.ws!, { closeCode: 4001 });
    const r = await s.done;
    expect(r.divergences).toHaveLength(1);
    expect(r.divergences[0]).toMatchObject({ reason: 'mismatch', seq: 9, message: 'the client closed with 4001; the recording has 1000' });
    expect(r.divergences[0].fields).toEqual([expect.objectContaining({ pointer: '/code', expected: 1000, actual: 4001 })]);
  });

  it('a recorded runtime close: the client gets it with the recorded code', async () => {
    const path = await writeTape([...recorded().slice(0, 2), ['s2c', 'ws.close', close(4000)]]);
    const s = await serve(path);
    const c = await client(s.addresses.ws!);
    c.send(hello());
    await c.closed();
    const r = await s.done;
    expect(r.divergences).toEqual([]);
    expect(c.got).toEqual([welcome, 'close 4000']);
  });

  it("the client's pings are answered live; its recorded ping is played past, and the pong to it not sent", async () => {
    const ping = (nonce: string) => JSON.stringify({ arcp: '1.1', id: `msg_p_${nonce}`, type: 'session.ping', session_id: 'sess_1', payload: { nonce } });
    const pong = JSON.stringify({ arcp: '1.1', id: 'msg_pong', type: 'session.pong', session_id: 'sess_1', payload: { ping_nonce: 'n_rec', received_at: '2026-01-01T00:00:00Z' } });
    const rows = recorded();
    rows.splice(2, 0, ['c2s', 'ws.text', ping('n_rec')], ['s2c', 'ws.text', pong]);
    const path = await writeTape(rows);
    const s = await serve(path);
    const c = await client(s.addresses.ws!);
    c.send(hello());
    await c.has(1);
    c.send(ping('n_live'));
    await c.has(2);
    c.send(submit());
    await c.has(5);
    c.send(cancel());
    await c.has(6);
    c.ws.close(1000);
    const r = await s.done;
    expect(r.divergences).toEqual([]);
    expect(r.notes).toContain("answered the live client's session.ping");
    expect(r.notes).toContain('recorded client session.ping frames are timer-driven: played past, not waited for');
    const pongs = c.got.filter((g) => g.includes('session.pong')).map((g) => JSON.parse(g));
    expect(pongs).toHaveLength(1);
    expect(pongs[0].payload.ping_nonce).toBe('n_live');
    expect(c.got).toContain(accepted);
  });

  it('faults: a duplicated frame arrives twice; a delayed one late; a drop ends the connection after its frame', async () => {
    const path = await writeTape(recorded());
    const frames = readFrames(path);
    expect(frames[4].data.toString()).toBe(event(1));
    const s = await serve(path, { faults: [{ kind: 'duplicate', seq: 5, spec: 'duplicate@5' }, { kind: 'delay', seq: 6, ms: 150, spec: 'delay@6:150' }, { kind: 'drop', seq: 8, spec: 'drop@8' }] });
    const c = await client(s.addresses.ws!);
    c.send(hello());
    await c.has(1);
    c.send(submit());
    await c.has(5);
    c.send(cancel());
    await c.closed();
    const r = await s.done;
    expect(c.got).toEqual([welcome, accepted, event(1), event(1), event(2), result, 'close 1006']);
    expect(c.arrived[4] - c.arrived[3]).toBeGreaterThanOrEqual(140);
    expect(r.notes).toEqual(expect.arrayContaining(['fault: sent frame 5 twice', 'fault: delayed frame 6 by 150 ms', 'fault: dropped the connection after frame 8']));
  });

  it('--pace recorded keeps the recorded gaps, divided by --speed', async () => {
    const rows = recorded();
    rows[4] = ['s2c', 'ws.text', event(1), 100];
    rows[5] = ['s2c', 'ws.text', event(2), 300];
    const path = await writeTape(rows);
    const gap = async (speed: number) => {
      const s = await serve(path, { pace: 'recorded', speed });
      const c = await playClient(s.addresses.ws!);
      expect((await s.done).divergences).toEqual([]);
      return c.arrived[3] - c.arrived[2];
    };
    expect(await gap(1)).toBeGreaterThanOrEqual(190);
    const fast = await gap(4);
    expect(fast).toBeGreaterThanOrEqual(45);
    expect(fast).toBeLessThan(150);
  });

  it('two connections: the second connection’s frames wait for what the first client sent before them', async () => {
    const second: Row[] = [
      ['c2s', 'ws.text', hello('msg_h2')],
      ['s2c', 'ws.text', welcome],
      ['c2s', 'ws.close', close()],
    ];
    const path = tape(`t${++n}.tape`);
    const w = await TapeWriter.create({ path, commandLine: ['test'], redaction: defaultRules() });
    const a = w.channel('ws', 'a');
    const b = w.channel('ws', 'b');
    w.frame(a, 'c2s', 'ws.text', hello());
    w.frame(a, 's2c', 'ws.text', welcome);
    w.frame(b, ...second[0].slice(0, 3) as [Row[0], Row[1], string]);
    w.frame(a, 'c2s', 'ws.text', submit());
    w.frame(b, ...second[1].slice(0, 3) as [Row[0], Row[1], string]);
    w.frame(b, 'c2s', 'ws.close', close());
    w.frame(a, 'c2s', 'ws.close', close());
    await w.close();
    const s = await serve(path, { timeoutMs: 300 });
    const one = await client(s.addresses.ws!);
    one.send(hello());
    await one.has(1);
    // Pings keep the first client from going quiet without sending what the second one waits for.
    const ping = JSON.stringify({ arcp: '1.1', id: 'msg_p', type: 'session.ping', session_id: 'sess_1', payload: { nonce: 'n' } });
    const beat = setInterval(() => one.ws.readyState === WebSocket.OPEN && one.send(ping), 50);
    onTestFinished(() => clearInterval(beat));
    const two = await client(s.addresses.ws!);
    two.send(hello('msg_h2'));
    // The second welcome is recorded after the first client's submit, which has not come.
    const r = await s.done;
    expect(two.got).not.toContain(welcome);
    expect(r.divergences[0]).toMatchObject({ reason: 'missing', channel: 2, seq: 5, message: "connection 1's client sent nothing for 0.3 s; the recording has its frame 4 before this connection's frame 5" });
  });

  it('a client that never opens the second connection: missing, saying so', async () => {
    const path = await writeTape(recorded().slice(0, 2), [['c2s', 'ws.text', hello('msg_h2')], ['s2c', 'ws.text', welcome]]);
    const s = await serve(path, { timeoutMs: 300 });
    const one = await client(s.addresses.ws!);
    one.send(hello());
    const r = await s.done;
    expect(one.got).not.toContain(welcome);
    expect(r.divergences[0]).toMatchObject({ reason: 'missing', channel: 1, seq: 3, message: "the client did not open connection 2 within 0.3 s; the recording has its frame 2 before this connection's frame 3" });
  });

  it('stdio: the recorded end of output and exit are noted, not reproduced; the run is clean', async () => {
    const path = await writeTapeOf('stdio', [
      ['c2s', 'stdio.line', hello()],
      ['s2c', 'stdio.line', welcome],
      ['s2c', 'transport.close', JSON.stringify({ eof: true })],
      ['meta', 'transport.close', JSON.stringify({ code: 0, reason: 'exit' })],
      ['c2s', 'transport.close', JSON.stringify({ eof: true })],
    ]);
    const input = new PassThrough();
    const output = new PassThrough();
    let out = '';
    output.on('data', (d) => (out += String(d)));
    const s = await serveReplay({ tape: path, stdio: { input, output }, timeoutMs: 1000 });
    onTestFinished(() => void s.stop());
    input.write(hello() + '\n');
    await until(() => out.includes('session.welcome'));
    input.end();
    const r = await s.done;
    expect(r.divergences).toEqual([]);
    expect(out).toBe(welcome + '\n');
    expect(r.notes).toEqual(expect.arrayContaining(['frame 3: the recorded runtime ended its output here', 'frame 4: the recorded runtime exited (0); arcp replay --stdio exits with its verdict instead']));
    expect(r.frames).toEqual({ total: 5, replayed: 5 });
  });
});
