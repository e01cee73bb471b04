#!/usr/bin/env node
// A minimal ARCP runtime on stdio, written apart from src/runtime, that ends the way strangers do:
// with --exit CODE it exits on its own (closing its output) right after a job's result, whatever
// its client does; without it, it exits 0 once its input ends. v1.0-style: it answers
// `session.bye` with nothing.
//
//   node stranger-stdio-runtime.mjs [--exit CODE]
import { createInterface } from 'node:readline';

const i = process.argv.indexOf('--exit');
const exitCode = i >= 0 ? Number(process.argv[i + 1]) : undefined;
let n = 0;
const id = (p) => `${p}_${String(++n).padStart(26, '0')}`;
const session = id('sess');
let seq = 0;
const out = (m) => process.stdout.write(JSON.stringify({ arcp: '1.1', id: id('msg'), ...m }) + '\n');

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (!line.trim()) return;
  let m;
  try {
    m = JSON.parse(line);
  } catch {
    out({ type: 'session.error', payload: { code: 'INVALID_REQUEST', message: 'not JSON', retryable: false } });
    return;
  }
  if (m.type === 'session.hello') {
    out({ type: 'session.welcome', session_id: session, payload: { runtime: { name: 'stranger-stdio', version: '0.0.1' }, resume_token: id('rt'), resume_window_sec: 60, capabilities: { encodings: ['json'], agents: [{ name: 'echo', versions: [] }] } } });
  } else if (m.type === 'job.submit') {
    const job = id('job');
    out({ type: 'job.accepted', session_id: session, job_id: job, payload: { job_id: job, agent: 'echo', lease: {}, accepted_at: new Date().toISOString() } });
    out({ type: 'job.result', session_id: session, job_id: job, event_seq: ++seq, payload: { final_status: 'success', result: { echoed: m.payload?.input ?? null } } });
    if (exitCode !== undefined) process.stdout.end(() => process.exit(exitCode));
  }
});
lines.on('close', () => process.exit(0));
