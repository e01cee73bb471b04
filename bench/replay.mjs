// `arcp replay` both ways on a long tape: as the runtime (--listen, to a live client) and as the
// client (--target, against a runtime sending the recorded frames); frames/s, and the replay
// process's peak RSS. ARCP_BENCH_BEFORE=<other checkout>/bin/run.js runs that build too,
// interleaved, for a before/after ratio from one invocation.
import { spawn } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import { TapeWriter } from '../dist/src/tape/writer.js';
import { defaultRules } from '../dist/src/tape/redact.js';
import { eventFrame } from './frames.mjs';
import { start } from './record.mjs';

const BIN = join(import.meta.dirname, '../bin/run.js');
const BEFORE = process.env.ARCP_BENCH_BEFORE;
const WELCOME = '{"arcp":"1.1","id":"msg_w","type":"session.welcome","session_id":"sess_1","payload":{"runtime":{"name":"bench","version":"1"},"resume_token":"rt_1","resume_window_sec":60,"capabilities":{"encodings":["json"]}}}';
const HELLO = '{"arcp":"1.1","id":"msg_hello","type":"session.hello","payload":{"client":{"name":"bench","version":"1"},"auth":{"scheme":"bearer","token":"tok"},"capabilities":{"encodings":["json"]}}}';
const SUBMIT = '{"arcp":"1.1","id":"msg_submit","type":"job.submit","session_id":"sess_1","payload":{"agent":"flood"}}';

/** A tape of one session streaming `n` job.event frames. */
export async function makeTape(path, n, Writer = TapeWriter) {
  const w = await Writer.create({ path, commandLine: ['bench'], redaction: defaultRules() });
  const ch = w.channel('ws', 'bench');
  w.frame(ch, 'c2s', 'ws.text', HELLO);
  w.frame(ch, 's2c', 'ws.text', WELCOME);
  w.frame(ch, 'c2s', 'ws.text', SUBMIT);
  for (let i = 0; i < n; i++) {
    w.frame(ch, 's2c', 'ws.text', eventFrame(i));
    if (i % 50_000 === 0) await new Promise((r) => setImmediate(r)); // let the writer drain
  }
  w.frame(ch, 'c2s', 'ws.close', '{"code":1000,"reason":""}');
  await w.close();
}

const peakRss = (pid) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;

async function serveOnce(bin, path, n) {
  const rep = await start([bin, 'replay', path, '--listen'], /ws:\/\/\S+/);
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

/**
 * `arcp replay --target`: a runtime in this process answers the recorded hello with the recorded
 * welcome and the submit with the recorded events, as fast as the socket takes them; timed from
 * the first event sent to the replay's close, which comes once every event has been matched.
 */
async function driveOnce(bin, path, n) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((r) => wss.once('listening', r));
  let t0 = 0;
  const closed = new Promise((resolve) =>
    wss.once('connection', (ws) => {
      ws.on('message', async (d) => {
        const type = /"type":"([^"]+)"/.exec(String(d))?.[1];
        if (type === 'session.hello') ws.send(WELCOME);
        if (type !== 'job.submit') return;
        t0 = performance.now();
        for (let i = 0; i < n; i++) {
          ws.send(eventFrame(i));
          while (ws.bufferedAmount > 8 * 1024 * 1024) await new Promise((r) => setImmediate(r));
        }
      });
      ws.once('close', () => resolve(performance.now()));
    }),
  );
  const rep = spawn(process.execPath, [bin, 'replay', path, '--target', `ws://127.0.0.1:${wss.address().port}`, '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  rep.stdout.on('data', (d) => (out += d));
  const exited = new Promise((r) => rep.once('exit', r));
  const t1 = await closed;
  const code = await exited;
  wss.close();
  const report = JSON.parse(out.trim().split('\n').at(-1));
  if (code !== 0 || report.frames.replayed !== report.frames.total) throw new Error(`replay --target did not run clean: ${out.slice(0, 400)}`);
  return { perSec: n / ((t1 - t0) / 1000) };
}

export async function replayBench({ frames = 200_000, big = 1_000_000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'arcp-bench-replay-'));
  try {
    const small = join(dir, 'small.tape');
    await makeTape(small, frames);
    const builds = BEFORE ? [BIN, BEFORE] : [BIN];
    // The other build may read an older tape format only: it gets the same frames written by its own writer.
    const tapes = new Map([[BIN, small]]);
    if (BEFORE) {
      const old = await import(pathToFileURL(join(dirname(BEFORE), '../dist/src/tape/writer.js')).href);
      tapes.set(BEFORE, join(dir, 'before.tape'));
      await makeTape(tapes.get(BEFORE), frames, old.TapeWriter);
    }
    const best = new Map(builds.map((b) => [b, { serve: 0, drive: 0 }]));
    // Interleaved, so both builds meet the same machine.
    for (let i = 0; i < 3; i++) {
      for (const b of builds) {
        const m = best.get(b);
        m.serve = Math.max(m.serve, (await serveOnce(b, tapes.get(b), frames)).perSec);
        m.drive = Math.max(m.drive, (await driveOnce(b, tapes.get(b), frames)).perSec);
      }
    }
    const now = best.get(BIN);
    const rows = [
      { name: `Replay as runtime, ${frames / 1000}k-frame tape to a live client`, unit: 'frames/s', record: now.serve, target: '≥ 150,000 frames/s', ok: now.serve >= 150_000 },
      { name: `Replay as client, ${frames / 1000}k-frame tape against a runtime`, unit: 'frames/s', record: now.drive, target: '≥ 100,000 frames/s', ok: now.drive >= 100_000 },
    ];
    if (BEFORE) {
      const then = best.get(BEFORE);
      rows.push({ name: '  as runtime vs the build before (ARCP_BENCH_BEFORE)', unit: 'frames/s', relay: then.serve, record: now.serve, ratio: now.serve / then.serve, target: 'reference: ≥ 0.95 is within noise' });
      rows.push({ name: '  as client vs the build before (ARCP_BENCH_BEFORE)', unit: 'frames/s', relay: then.drive, record: now.drive, ratio: now.drive / then.drive, target: 'reference: ≥ 0.95 is within noise' });
    }
    const large = join(dir, 'large.tape');
    await makeTape(large, big);
    const l = await serveOnce(BIN, large, big);
    rows.push({ name: `Replay of a ${big / 1e6}M-frame tape: peak RSS (streams the tape)`, unit: 'MiB', record: l.rss / 2 ** 20, target: `bounded (${Math.round(l.perSec).toLocaleString('en-US')} frames/s)`, ok: l.rss < 512 * 2 ** 20 });
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
