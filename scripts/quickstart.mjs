#!/usr/bin/env node
// Quick start: record a real run against the embedded reference runtime, look at the tape,
// replay it offline to the same client, and replay it as the client against the live runtime.
// Then the agent story: the runtime's assistant calls a (scripted) LLM, the run is recorded,
// forked at the model's third answer with an edit, continued live, and diffed with its parent.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const token = 'quickstart';
const tape = 'tapes/quickstart.tape';
const agentTape = 'tapes/quickstart-agent.tape';
const forkTape = 'tapes/quickstart-agent.fork.tape';
const notes = 'tapes/quickstart-notes.txt';
const submitArgs = (url) => ['submit', '--url', url, '--token', token, '--agent', 'chatty', '--input', '{"dataset":"s3://example/sales.csv"}', '--lease', '{"tool.call":["stats.*"]}'];
const quote = (a) => (/[{}"* ]/.test(a) ? `'${a}'` : a);
/** The command as a person would type it: `arcp` for this checkout's CLI. */
const say = (args) => console.log(`\n$ arcp ${args.map((a) => (a === process.execPath ? '' : a === bin ? 'arcp' : quote(a))).filter(Boolean).join(' ')}`);

/** Starts `arcp ARGS` in the background and resolves with the URL it prints under `name`. */
function background(args, name = 'ARCP_URL') {
  say(args);
  const p = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    p.stdout.on('data', (d) => {
      process.stdout.write(d);
      const m = new RegExp(`${name}=(\\S+)`).exec(String(d));
      if (m) resolve({ url: m[1], p, done: new Promise((r) => p.once('exit', r)) });
    });
    p.once('exit', (code) => reject(new Error(`arcp ${args[0]} exited with ${code}`)));
  });
}
/** Runs `arcp ARGS`; `ok` lists the exit codes that are not a failure (diff exits 1 when the tapes differ). */
function run(args, ok = [0]) {
  say(args);
  const r = spawnSync(process.execPath, [bin, ...args], { stdio: 'inherit' });
  if (!ok.includes(r.status)) throw new Error(`arcp ${args.join(' ')} exited with ${r.status}`);
}

const runtime = await background(['serve', '--port', '0', '--token', `${token}=demo`]);
const llm = await background(['llm', 'serve', '--script', 'demo'], 'ARCP_LLM_URL');
try {
  console.log('\n# 1. Record: the recorder sits between client and runtime');
  const rec = await background(['record', '--upstream', runtime.url, '--tape', tape, '--force']);
  run(submitArgs(rec.url));
  rec.p.kill('SIGINT');
  await rec.done;

  console.log('\n# 2. Look at the tape (secrets redacted, fingerprinted)');
  run(['tape', 'show', tape, '--limit', '14', '--no-steps']);
  run(['tape', 'verify', tape]);

  console.log('\n# 3. Replay offline: the tape plays the runtime to the same client');
  const replay = await background(['replay', tape, '--listen']);
  run(submitArgs(replay.url));
  await replay.done;

  console.log('\n# 4. Replay as the client: does the live runtime still behave as recorded?');
  run(['replay', tape, '--target', runtime.url, '--token', token]);

  console.log('\n# 5. An agent that calls an LLM: record the runtime (stdio) and its LLM calls (HTTP/SSE) into one tape');
  mkdirSync('tapes', { recursive: true });
  writeFileSync(notes, 'Remember: the discount code is SAVE10.\n');
  const serveStdio = ['arcp', 'serve', '--stdio', '--token', `${token}=demo`];
  const task = '{"task":"What is the total for 3 items at 17.50 each plus 8% tax?"}';
  const lease = '{"tool.call":["calculator"],"fs.read":["/**/quickstart-notes.txt"]}';
  const arcpCmd = (words) => words.map((w) => (w === 'arcp' ? [process.execPath, bin] : [w])).flat();
  run(['submit', '--token', token, '--agent', 'assistant', '--input', task, '--lease', lease, '--', ...arcpCmd(['arcp', 'record', '--tape', agentTape, '--force', '--http', `/llm=${llm.url}`, '--', ...serveStdio])]);
  run(['tape', 'show', agentTape, '--limit', '0']);

  console.log('\n# 6. Fork at the model\'s third answer: what if it had read the notes instead of adding up?');
  run(['fork', agentTape, '--at', 'job:1/llm:3', '--show']);
  const edit = ['--set', '/tool_calls/0/function/name="read_file"', '--set', `/tool_calls/0/function/arguments=${JSON.stringify(JSON.stringify({ path: notes }))}`];
  run(['fork', agentTape, '--at', 'job:1/llm:3', ...edit, '--out', forkTape, '--force', '--llm-upstream', llm.url, '--token', token, '--', ...arcpCmd(serveStdio)]);

  console.log('\n# 7. What changed: the fork point, the first divergence after it, the results; and the family');
  run(['diff', agentTape, forkTape], [0, 1]);
  run(['tape', 'tree', 'tapes']);
} finally {
  runtime.p.kill('SIGTERM');
  llm.p.kill('SIGTERM');
}
