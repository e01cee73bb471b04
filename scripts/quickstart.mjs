#!/usr/bin/env node
// Quick start: run the embedded reference runtime, submit a job through the CLI, stream its events.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const token = 'quickstart';
const serve = spawn(process.execPath, [bin, 'serve', '--port', '0', '--token', `${token}=demo`], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve, reject) => {
  serve.stdout.on('data', (d) => {
    const m = /ARCP_URL=(\S+)/.exec(String(d));
    if (m) resolve(m[1]);
  });
  serve.on('exit', (code) => reject(new Error(`arcp serve exited with ${code}`)));
});
console.log(`\n$ arcp serve --token ${token}=demo\nARCP_URL=${url}\n`);
const args = ['submit', '--url', url, '--token', token, '--agent', 'chatty', '--input', '{"dataset":"s3://example/sales.csv"}', '--lease', '{"tool.call":["stats.*"]}'];
console.log(`$ arcp ${args.map((a) => (/[{}"]/.test(a) ? `'${a}'` : a)).join(' ')}`);
const r = spawnSync(process.execPath, [bin, ...args], { stdio: 'inherit' });
serve.kill('SIGTERM');
process.exit(r.status ?? 1);
