import { writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fork } from '../../src/fork/fork.js';
import { DEMO_SCRIPT } from '../../src/llm/demo-script.js';
import { startScriptedLlm, type ScriptedLlm } from '../../src/llm/scripted-server.js';
import { DEFAULT_LLM, type LlmSettings } from '../../src/runtime/agents/assistant.js';
import { referenceAgents } from '../../src/runtime/agents/index.js';
import { arcp, BIN } from '../helpers/cli.js';
import { recordAssistant } from '../helpers/assistant.js';
import { startRuntime } from '../helpers/runtime.js';
import { tapeDir } from '../helpers/tape.js';
import { oneLine } from '../helpers/errors.js';

/** The commands' edges: bad input gets one line and exit 2; trouble after the fork point is reported and exits 1. */
const tape = tapeDir();
const parent = tape('parent.tape');
let llm: ScriptedLlm;
const serve = [process.execPath, BIN, 'serve', '--stdio', '--token', 'tok=alice'];

beforeAll(async () => {
  llm = await startScriptedLlm({ script: DEMO_SCRIPT });
  const settings: LlmSettings = { ...DEFAULT_LLM };
  const rt = await startRuntime({ agents: referenceAgents(() => settings) });
  await recordAssistant(parent, rt.url, settings, llm.url);
  await rt.close();
});
afterAll(() => llm.close());

describe('arcp fork, llm serve, tape tree: edges', () => {
  it('llm serve prints its URL and answers; a bad script is one line', async () => {
    const p = execa(process.execPath, [BIN, 'llm', 'serve', '--json'], { reject: false });
    const url = await new Promise<string>((resolve) => p.stdout!.once('data', (d) => resolve(JSON.parse(String(d)).url)));
    const r = await fetch(`${url}/models`);
    expect(((await r.json()) as { data: { id: string }[] }).data[0].id).toBe('scripted-demo-1');
    p.kill('SIGTERM');
    expect((await p).exitCode).toBe(0);
    writeFileSync(tape('bad-script.json'), '{"replies":[{"say":"x","sometimes":true}]}');
    const bad = await arcp(['llm', 'serve', '--script', tape('bad-script.json')]);
    expect(bad.exitCode).toBe(2);
    expect(oneLine(bad.stderr)).toMatch(/does not fit the format \(\/replies\/0: Unrecognized key: "sometimes"\)/);
  });

  it('serve refuses a bad LLM setting in one line', async () => {
    const r = await arcp(['serve', '--llm-url', 'not a url']);
    expect(r.exitCode).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/--llm-url "not a url" is not an http:\/\/ or https:\/\/ URL/);
    const api = await arcp(['serve', '--llm-api', 'cohere']);
    expect(api.exitCode).toBe(2);
    expect(oneLine(api.stderr)).toMatch(/cohere/);
  });

  it('a foreign parent and a missing --then tape are one line, exit 2; clashing flags are usage errors', async () => {
    writeFileSync(tape('foreign.tape'), 'not sqlite at all');
    const cases: [string[], RegExp][] = [
      [[tape('foreign.tape'), '--at', '1'], /is not an arcp tape/],
      [[parent, '--at', 'job:1/llm:3', '--then', `tape:${tape('nope.tape')}`, '--token', 'tok', '--', ...serve], /no tape at .*nope\.tape/],
    ];
    for (const [args, want] of cases) {
      const r = await arcp(['fork', ...args]);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(oneLine(r.stderr)).toMatch(want);
    }
    const usage = (o: Partial<Parameters<typeof fork>[0]>, continuation?: Parameters<typeof fork>[0]['continuation']) => fork({ parent, at: 'job:1/llm:3', out: tape('clash.tape'), edit: {}, commandLine: ['test'], continuation, ...o });
    await expect(usage({}, { command: serve, then: 'other.tape' })).rejects.toMatchObject({ code: 'E_USAGE', message: expect.stringMatching(/--then "other.tape" is not tape:PATH/) });
    await expect(usage({}, { command: serve, llmUpstream: 'ftp://x' })).rejects.toMatchObject({ code: 'E_USAGE', message: expect.stringMatching(/--llm-upstream "ftp:\/\/x" is not an http/) });
    await expect(usage({}, { command: serve, target: 'ws://127.0.0.1:1' })).rejects.toMatchObject({ code: 'E_USAGE', message: expect.stringMatching(/both name the runtime/) });
    await expect(usage({ keepRest: true }, { command: serve })).rejects.toMatchObject({ code: 'E_USAGE', message: expect.stringMatching(/--keep-rest copies the parent after the step/) });
    await expect(usage({ out: parent })).rejects.toMatchObject({ code: 'E_USAGE', message: expect.stringMatching(/is the parent tape/) });
  });

  it('a dead upstream after the fork point is reported, the child still written, exit 1', async () => {
    const out = tape('dead.tape');
    const r = await arcp(['fork', parent, '--at', 'job:1/llm:3', '--set', '/tool_calls/0/function/arguments="{\\"expression\\":\\"1+1\\"}"', '--out', out, '--llm-upstream', 'http://127.0.0.1:1/v1', '--token', 'tok', '--', ...serve]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/problem: POST \/llm\/chat\/completions: upstream http:\/\/127\.0\.0\.1:1\/v1 unreachable: ECONNREFUSED/);
    expect(r.stdout).toMatch(/job:1 +error/);
    const show = await arcp(['tape', 'show', out, '--json']);
    expect(JSON.parse(show.stdout.split('\n')[0]).jobs[0].status).toBe('error');
  });

  it('tape tree lists an unreadable file and refuses a missing folder', async () => {
    const r = await arcp(['tape', 'tree', tape('')]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/foreign\.tape: unreadable: .*not an arcp tape/);
    expect(r.stdout).toMatch(/parent\.tape[\s\S]*dead\.tape .*at job:1\/llm:3/);
    const missing = await arcp(['tape', 'tree', tape('no-such-dir')]);
    expect(missing.exitCode).toBe(2);
    expect(oneLine(missing.stderr)).toMatch(/cannot list .*no-such-dir: ENOENT/);
    expect((await arcp(['fork', '--help'])).stdout).toMatch(/EXAMPLES[\s\S]*--at job:1\/llm:3 --show/);
  });
});
