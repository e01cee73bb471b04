// Records: `arcp tape records` over a tape of many jobs, against reading the same tape (every
// frame's bytes hash-checked, as any reader does) in the same invocation.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TapeWriter } from '../dist/src/tape/writer.js';
import { TapeReader } from '../dist/src/tape/reader.js';
import { defaultRules } from '../dist/src/tape/redact.js';
import { deriveRecords } from '../dist/src/records/derive.js';

const S = 'sess_01BENCH';
let n = 0;
const msg = (type, payload, extra = {}) => JSON.stringify({ arcp: '1.1', id: `msg_${++n}`, type, session_id: S, ...extra, payload });

/** A session of `jobs` chatty-like jobs: submit, accepted, status, log, two tool calls (one denied), a metric, result. */
async function writeTape(path, jobs) {
  const w = await TapeWriter.create({ path, commandLine: ['bench'], redaction: defaultRules() });
  const ch = w.channel('ws', 'bench');
  w.frame(ch, 'c2s', 'ws.text', msg('session.hello', { client: { name: 'bench', version: '1' }, auth: { scheme: 'bearer', token: 'tok' } }));
  w.frame(ch, 's2c', 'ws.text', msg('session.welcome', { resume_token: 'rt_1' }));
  let seq = 0;
  for (let j = 0; j < jobs; j++) {
    const job = `job_${j}`;
    const ev = (kind, body) => w.frame(ch, 's2c', 'ws.text', msg('job.event', { kind, ts: '2026-12-01T00:00:00.000Z', body }, { job_id: job, event_seq: ++seq }));
    w.frame(ch, 'c2s', 'ws.text', msg('job.submit', { agent: 'chatty', input: { dataset: `s3://x/${j}.csv` }, lease_request: { 'tool.call': ['stats.*'] } }));
    w.frame(ch, 's2c', 'ws.text', msg('job.accepted', { job_id: job, agent: 'chatty', lease: { 'tool.call': ['stats.*'] }, trace_id: j.toString(16).padStart(32, '0') }, { job_id: job }));
    ev('status', { phase: 'fetching' });
    ev('log', { level: 'info', message: `${j} rows` });
    ev('tool_call', { tool: 'stats.summarize', args: { column: 'revenue', j }, call_id: 'c1' });
    ev('tool_result', { call_id: 'c1', result: { mean: j } });
    ev('tool_call', { tool: 'shell.exec', args: { cmd: 'rm' }, call_id: 'c2' });
    ev('tool_result', { call_id: 'c2', error: { code: 'PERMISSION_DENIED', message: 'no', retryable: false } });
    ev('metric', { name: 'rows', value: j });
    w.frame(ch, 's2c', 'ws.text', msg('job.result', { final_status: 'success', result: { outliers: j } }, { job_id: job, event_seq: ++seq }));
  }
  return w.close();
}

export async function recordsBench({ jobs = 10_000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'arcp-bench-'));
  try {
    const path = join(dir, 'records.tape');
    const s = await writeTape(path, jobs);
    let read = Infinity;
    let derive = Infinity;
    let records = 0;
    for (let i = 0; i < 3; i++) {
      let t = performance.now();
      const r = TapeReader.open(path);
      let bytes = 0;
      for (const f of r.frames()) bytes += f.data.length;
      r.close();
      read = Math.min(read, performance.now() - t);
      t = performance.now();
      records = deriveRecords(path).records.length;
      derive = Math.min(derive, performance.now() - t);
      if (!bytes) throw new Error('empty tape');
    }
    return { frames: s.frames, records, readMs: read, deriveMs: derive };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await recordsBench();
  console.log(`records: ${r.records} records from ${r.frames} frames in ${r.deriveMs.toFixed(0)} ms (reading the tape alone: ${r.readMs.toFixed(0)} ms, ×${(r.deriveMs / r.readMs).toFixed(1)})`);
}
