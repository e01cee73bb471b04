#!/usr/bin/env node
// Quick start: record a real run against the embedded reference runtime, look at the tape,
// replay it offline to the same client, and replay it as the client against the live runtime.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const token = 'quickstart';
const tape = 'tapes/quickstart.tape';
const submitArgs = (url) => ['submit', '--url', url, '--token', token, '--agent', 'chatty', '--input', '{"dataset":"s3://example/sales.csv"}', '--lease', '{"tool.call":["stats.*"]}'];
const quote = (a) => (/[{}"* ]/.test(a) ? `'${a}'` : a);
const say = (args) => console.log(`\n$ arcp ${args.map(quote).join(' ')}`);

/** Starts `arcp ARGS` in the background and resolves with the URL it prints. */
function background(args) {
  say(args);
  const p = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    p.stdout.on('data', (d) => {
      process.stdout.write(d);
      const m = /ARCP_URL=(\S+)/.exec(String(d));
      if (m) resolve({ url: m[1], p, done: new Promise((r) => p.once('exit', r)) });
    });
    p.once('exit', (code) => reject(new Error(`arcp ${args[0]} exited with ${code}`)));
  });
}
function run(args) {
  say(args);
  const r = spawnSync(process.execPath, [bin, ...args], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`arcp ${args.join(' ')} exited with ${r.status}`);
}

const runtime = await background(['serve', '--port', '0', '--token', `${token}=demo`]);
try {
  console.log('\n# 1. Record: the recorder sits between client and runtime');
  const rec = await background(['record', '--upstream', runtime.url, '--tape', tape, '--force']);
  run(submitArgs(rec.url));
  rec.p.kill('SIGINT');
  await rec.done;

  console.log('\n# 2. Look at the tape (secrets redacted, fingerprinted)');
  run(['tape', 'show', tape, '--limit', '14']);
  run(['tape', 'verify', tape]);

  console.log('\n# 3. Replay offline: the tape plays the runtime to the same client');
  const replay = await background(['replay', tape, '--listen']);
  run(submitArgs(replay.url));
  await replay.done;

  console.log('\n# 4. Replay as the client: does the live runtime still behave as recorded?');
  run(['replay', tape, '--target', runtime.url, '--token', token]);
} finally {
  runtime.p.kill('SIGTERM');
}
