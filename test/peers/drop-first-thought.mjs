#!/usr/bin/env node
// A runtime that is not the recorded one: it wraps a stdio runtime and drops the first
// `thought` event it sends, as a runtime with a changed agent would.
import { spawn } from 'node:child_process';

const [cmd, ...args] = process.argv.slice(2);
const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
process.stdin.pipe(child.stdin);
let dropped = false;
let buf = '';
child.stdout.on('data', (d) => {
  buf += d;
  for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
    const line = buf.slice(0, i + 1);
    buf = buf.slice(i + 1);
    if (!dropped && line.includes('"kind":"thought"')) {
      dropped = true;
      continue;
    }
    process.stdout.write(line);
  }
});
child.on('exit', (code) => process.exit(code ?? 1));
