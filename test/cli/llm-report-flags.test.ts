/**
 * Every documented flag of `arcp llm serve` and `arcp report`, driven once through the CLI with
 * its effect asserted. Already driven elsewhere (not repeated here):
 * - llm serve: --json, the default --script demo, a bad --script file, SIGTERM's clean exit
 *   (test/fork/fork-cli.test.ts); a --port in use and a bad --host (test/cli/bind.test.ts).
 * - report: -o, the default path beside the tape, --json, -o naming the tape itself
 *   (test/report/report-browser.test.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultRules } from '../../src/tape/redact.js';
import { TapeWriter } from '../../src/tape/writer.js';
import { inProcess, start } from '../helpers/in-process.js';
import { until } from '../helpers/runtime.js';
import { freePort } from '../helpers/ports.js';
import { tapeDir } from '../helpers/tape.js';
import { usageLine } from '../helpers/errors.js';

const file = tapeDir();


/** `arcp llm serve ARGS` in this process; resolves with its URL once it printed it. */
async function serving(args: string[]) {
  const run = start(['llm', 'serve', ...args]);
  await until(() => /ARCP_LLM_URL=\S+\n/.test(run.stdout()) || run.stderr().startsWith('arcp:'), 5000, 'llm serve to print its URL');
  return { run, url: /ARCP_LLM_URL=(\S+)/.exec(run.stdout())?.[1] ?? '' };
}

const ask = async (url: string, text: string) => {
  const r = await fetch(`${url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: text }] }) });
  return { status: r.status, body: (await r.json()) as { choices: { message: { content: string } }[] } };
};

describe('arcp llm serve', () => {
  it('-s FILE answers from that script; -p fixes the port; --host names the address it listens on', async () => {
    const script = file('script.json');
    writeFileSync(script, JSON.stringify({ model: 'own-model', replies: [{ when: { user_contains: 'ping' }, say: 'pong from my own script' }] }));
    const port = await freePort();
    const { run, url } = await serving(['-s', script, '-p', String(port), '--host', 'localhost']);
    expect(url).toBe(`http://localhost:${port}/v1`);
    const a = await ask(url, 'ping?');
    expect(a.status).toBe(200);
    expect(a.body.choices[0].message.content).toBe('pong from my own script');
    // A request the script has no reply for.
    expect((await ask(url, 'hello')).status).toBe(400);
    expect((await run.stop()).code).toBe(0);
  });

  it('-v writes one line per request on stderr; without it, nothing', async () => {
    const quiet = await serving([]);
    await ask(quiet.url, 'What is the total for 3 items?');
    expect((await quiet.run.stop()).stderr).toBe('');
    const loud = await serving(['-v']);
    await ask(loud.url, 'What is the total for 3 items?');
    await ask(loud.url, 'What is the total for 4 items?');
    const r = await loud.run.stop();
    expect(r.code).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l).toMatch(/^arcp llm: .*chat\/completions/);
  });

  it('a --port out of range is a usage error: exit 2, one line', async () => {
    expect(usageLine(await inProcess(['llm', 'serve', '--port', '70000']))).toMatch(/--port/);
  });
});

describe('arcp report: --frame-chars and --budget bound the page', () => {
  const TAIL = 'END-OF-THE-LONG-FRAME';
  const tape = file('long.tape');
  beforeAll(async () => {
    const w = await TapeWriter.create({ path: tape, commandLine: ['test'], redaction: defaultRules() });
    const ch = w.channel('ws', 'one');
    w.frame(ch, 'c2s', 'ws.text', JSON.stringify({ type: 'x', text: 'short one' }));
    w.frame(ch, 's2c', 'ws.text', JSON.stringify({ type: 'y', text: `${'x'.repeat(1500)}${TAIL}` }));
    await w.close();
  });
  const report = async (args: string[]) => {
    const out = file(`r-${args.join('_') || 'default'}.html`);
    const r = await inProcess(['report', tape, '-o', out, '--json', ...args]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    return { out: JSON.parse(r.stdout), html: readFileSync(out, 'utf8') };
  };

  it('by default both frames are whole; --frame-chars 100 clips the long one', async () => {
    const whole = await report([]);
    expect(whole.out).toMatchObject({ frames: 2, clipped: 0, textless: 0 });
    expect(whole.html).toContain(TAIL);
    const clipped = await report(['--frame-chars', '100']);
    expect(clipped.out).toMatchObject({ frames: 2, clipped: 1, textless: 0 });
    expect(clipped.html).not.toContain(TAIL);
    expect(clipped.html).toContain('short one');
    const human = await inProcess(['report', tape, '-o', file('human.html'), '--frame-chars', '100']);
    expect(human.stderr).toMatch(/to keep the file bounded: 1 frame clipped, 0 frames without text/);
  });

  it('--budget spends the page\'s text on the first frames; the rest keep only their summary', async () => {
    const first = await report(['--budget', '20']);
    expect(first.out).toMatchObject({ frames: 2, textless: 1 });
    expect(first.html).toContain('short one');
    expect(first.html).not.toContain(TAIL);
    const none = await report(['--budget', '0']);
    expect(none.out).toMatchObject({ frames: 2, textless: 2 });
    expect(none.html).not.toContain('short one');
  });

  it('a --frame-chars under 64 or a negative --budget is a usage error: exit 2, one line', async () => {
    expect(usageLine(await inProcess(['report', tape, '--frame-chars', '10']))).toMatch(/--frame-chars/);
    expect(usageLine(await inProcess(['report', tape, '--budget', '-1']))).toMatch(/--budget/);
  });
});
