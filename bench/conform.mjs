// `arcp conform server` against `arcp serve`, as users run both (the CLI, oclif and all):
// the whole server suite with its default --jobs, against the same suite run one check at a
// time (the baseline), in this invocation. Target: the whole suite in ≤ 60 s.
import { execa } from 'execa';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '../bin/run.js');

async function serve(heartbeat) {
  const p = execa(process.execPath, [BIN, 'serve', '--port', '0', '--heartbeat-interval', String(heartbeat), '--token', 'tok=alice', '--token', 'tok2=bob', '--token', 'aud=auditor', '--observe', 'auditor=alice']);
  const url = await new Promise((resolve, reject) => {
    p.stdout.on('data', (d) => {
      const m = /ARCP_URL=(\S+)/.exec(d.toString());
      if (m) resolve(m[1]);
    });
    p.catch(reject);
  });
  return { url, stop: () => (p.kill('SIGTERM'), p.catch(() => undefined)) };
}

async function suite(url, extra) {
  const t0 = performance.now();
  const r = await execa(process.execPath, [BIN, 'conform', 'server', url, '--token', 'tok', '--token2', 'tok2', '--observer-token', 'aud', '--json', ...extra], { reject: false });
  const s = JSON.parse(r.stdout).summary;
  return { seconds: (performance.now() - t0) / 1000, exit: r.exitCode, summary: `${s.pass} pass, ${s.fail} fail, ${s.info} info, ${s.skipped} skipped` };
}

export async function conformBench() {
  const rows = [];
  const fast = await serve(1);
  try {
    const parallel = await suite(fast.url, []);
    const serial = await suite(fast.url, ['--jobs', '1']);
    rows.push({ name: `conform server vs arcp serve (heartbeat 1 s): ${parallel.summary}`, unit: 's', relay: serial.seconds, record: parallel.seconds, ratio: parallel.seconds / serial.seconds, target: '≤ 60 s', ok: parallel.seconds <= 60 && parallel.exit === 0 });
  } finally {
    await fast.stop();
  }
  const dflt = await serve(30);
  try {
    const r = await suite(dflt.url, []);
    rows.push({ name: `  the same, serve defaults (heartbeat 30 s): ${r.summary}`, unit: 's', record: r.seconds, target: '≤ 60 s', ok: r.seconds <= 60 && r.exit === 0 });
  } finally {
    await dflt.stop();
  }
  return rows;
}
