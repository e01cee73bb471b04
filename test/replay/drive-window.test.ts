import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { driveReplay } from '../../src/replay/driver.js';
import { defaultRules } from '../../src/tape/redact.js';
import { TapeWriter } from '../../src/tape/writer.js';
import { tapeDir } from '../helpers/tape.js';

const tape = tapeDir();
// Events per job: further apart than the driver reads ahead (1024 frames, 10k while frames wait),
// and a tape long enough (24k frames) to be read on the reader thread.
const N = 12_000;
const hello = '{"arcp":"1.1","id":"msg_hello","type":"session.hello","payload":{"client":{"name":"t","version":"1"},"auth":{"scheme":"bearer","token":"tok"},"capabilities":{"encodings":["json"]}}}';
const welcome = '{"arcp":"1.1","id":"msg_w","type":"session.welcome","session_id":"sess_1","payload":{"runtime":{"name":"t","version":"1"},"resume_token":"rt_1","resume_window_sec":60,"capabilities":{"encodings":["json"]}}}';
const submit = (j: string) => `{"arcp":"1.1","id":"msg_sub_${j}","type":"job.submit","session_id":"sess_1","payload":{"agent":"flood"}}`;
const accepted = (j: string) => `{"arcp":"1.1","id":"msg_acc_${j}","type":"job.accepted","session_id":"sess_1","payload":{"job_id":"job_${j}"}}`;
const event = (j: string, i: number, seq: number) => `{"arcp":"1.1","id":"msg_${j}_${i}","type":"job.event","session_id":"sess_1","job_id":"job_${j}","event_seq":${seq},"payload":{"kind":"log","body":{"message":"item ${i} of ${j}"}}}`;

let path = '';
let server: WebSocketServer;
let url = '';
/** The live runtime: accepts both jobs, then streams all of job b before job a (the recording has a first). */
beforeAll(async () => {
  path = tape('two-jobs.tape');
  const w = await TapeWriter.create({ path, commandLine: ['test'], redaction: defaultRules() });
  const ch = w.channel('ws', 'test');
  w.frame(ch, 'c2s', 'ws.text', hello);
  w.frame(ch, 's2c', 'ws.text', welcome);
  for (const j of ['a', 'b']) {
    w.frame(ch, 'c2s', 'ws.text', submit(j));
    w.frame(ch, 's2c', 'ws.text', accepted(j));
  }
  let seq = 0;
  for (const j of ['a', 'b']) for (let i = 0; i < N; i++) w.frame(ch, 's2c', 'ws.text', event(j, i, ++seq));
  w.frame(ch, 'c2s', 'ws.close', '{"code":1000,"reason":""}');
  await w.close();

  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => server.once('listening', r));
  server.on('connection', (ws) => {
    let submits = 0;
    ws.on('message', (d) => {
      const type = (JSON.parse(String(d)) as { type: string }).type;
      if (type === 'session.hello') ws.send(welcome);
      if (type !== 'job.submit') return;
      ws.send(accepted(++submits === 1 ? 'a' : 'b'));
      if (submits < 2) return;
      let seq = 0;
      for (const j of ['b', 'a']) for (let i = 0; i < N; i++) ws.send(event(j, i, ++seq));
    });
  });
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('a runtime that interleaves jobs otherwise than the recording', () => {
  it('replays clean when one job’s frames arrive thousands of frames before the recording has them', async () => {
    const r = await driveReplay({ tape: path, target: url, timeoutMs: 10_000 });
    expect(r.divergences).toEqual([]);
    expect(r.frames.replayed).toBe(r.frames.total);
  });
});
