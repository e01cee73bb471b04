// `arcp replay --listen` serving a long tape to a live client: frames/s, and the replay process's peak RSS.
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { TapeWriter } from '../dist/src/tape/writer.js';
import { defaultRules } from '../dist/src/tape/redact.js';
import { eventFrame } from './frames.mjs';
import { start } from './record.mjs';

const BIN = join(import.meta.dirname, '../bin/run.js');
const HELLO = '{"arcp":"1.1","id":"msg_hello","type":"session.hello","payload":{"client":{"name":"bench","version":"1"},"auth":{"scheme":"bearer","token":"tok"},"capabilities":{"encodings":["json"]}}}';
const SUBMIT = '{"arcp":"1.1","id":"msg_submit","type":"job.submit","session_id":"sess_1","payload":{"agent":"flood"}}';

/** A tape of one session streaming `n` job.event frames. */
export async function makeTape(path, n) {
  const w = await TapeWriter.create({ path, commandLine: ['bench'], redaction: defaultRules() });
  const ch = w.channel('ws', 'bench');
  w.frame(ch, 'c2s', 'ws.text', HELLO);
  w.frame(ch, 's2c', 'ws.text', '{"arcp":"1.1","id":"msg_w","type":"session.welcome","session_id":"sess_1","payload":{"runtime":{"name":"bench","version":"1"},"resume_token":"rt_1","resume_window_sec":60,"capabilities":{"encodings":["json"]}}}');
  w.frame(ch, 'c2s', 'ws.text', SUBMIT);
  for (let i = 0; i < n; i++) {
    w.frame(ch, 's2c', 'ws.text', eventFrame(i));
    if (i % 50_000 === 0) await new Promise((r) => setImmediate(r)); // let the writer drain
  }
  w.frame(ch, 'c2s', 'ws.close', '{"code":1000,"reason":""}');
  await w.close();
}

const peakRss = (pid) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;

async function serveOnce(path, n) {
  const rep = await start([BIN, 'replay', path, '--listen'], /ws:\/\/\S+/);
  const url = rep.url;
  const ws = new WebSocket(url, { perMessageDeflate: false });
  let got = 0;
  let t0 = 0;
  const all = new Promise((resolve) =>
    ws.on('message', () => {
      got++;
      if (got === 2) t0 = performance.now();
      if (got === n + 1) resolve();
    }),
  );
  await new Promise((r) => ws.once('open', r));
  ws.send(HELLO);
  ws.send(SUBMIT);
  await all;
  const ms = performance.now() - t0;
  const rss = peakRss(rep.pid);
  ws.close(1000);
  await rep.exited;
  return { perSec: n / (ms / 1000), rss };
}

export async function replayBench({ frames = 200_000, big = 1_000_000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'arcp-bench-replay-'));
  try {
    const small = join(dir, 'small.tape');
    await makeTape(small, frames);
    let best = 0;
    for (let i = 0; i < 3; i++) best = Math.max(best, (await serveOnce(small, frames)).perSec);
    const large = join(dir, 'large.tape');
    await makeTape(large, big);
    const l = await serveOnce(large, big);
    return [
      { name: `Replay as runtime, ${frames / 1000}k-frame tape to a live client`, unit: 'frames/s', record: best, target: '≥ 150,000 frames/s', ok: best >= 150_000 },
      { name: `Replay of a ${big / 1e6}M-frame tape: peak RSS (streams the tape)`, unit: 'MiB', record: l.rss / 2 ** 20, target: `bounded (${Math.round(l.perSec).toLocaleString('en-US')} frames/s)`, ok: l.rss < 512 * 2 ** 20 },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
