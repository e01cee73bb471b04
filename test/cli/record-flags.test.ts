import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ArcpClient } from '../../src/client/client.js';
import { TapeReader } from '../../src/tape/reader.js';
import { verifyTape } from '../../src/tape/verify.js';
import { BIN, reap } from '../helpers/cli.js';
import { start } from '../helpers/in-process.js';
import { startLlmUpstream, type LlmUpstream } from '../helpers/llm-upstream.js';
import { startRuntime, until } from '../helpers/runtime.js';
import { readFrames, tapeDir } from '../helpers/tape.js';

const tape = tapeDir();
let rt: Awaited<ReturnType<typeof startRuntime>>;
let up: LlmUpstream;
beforeAll(async () => {
  rt = await startRuntime();
  up = await startLlmUpstream();
});
afterAll(async () => {
  await rt.close();
  await up.close();
});

/** `arcp record ARGS` in this process; resolves once it printed where to connect. */
async function recording(args: string[]) {
  const run = start(['record', ...args]);
  await until(() => /ARCP_(HTTP_)?URL=\S+\n/.test(run.stdout()) || run.stderr().startsWith('arcp:'), 5000, 'record to print where to connect');
  return { run, ws: /ARCP_URL=(\S+)/.exec(run.stdout())?.[1] ?? '', http: /ARCP_HTTP_URL=(\S+)/.exec(run.stdout())?.[1] ?? '' };
}

async function session(url: string) {
  const c = await ArcpClient.connect(url, { token: 'tok' });
  await c.submit({ agent: 'echo', input: { n: 1 } }).done;
  await c.close();
}

const fileText = (path: string) => readFileSync(path).toString('latin1');

/** Makes stderr a terminal for this test: the progress line shows only there. */
function onATerminal() {
  const tty = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
  Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true });
  onTestFinished(() => {
    if (tty) Object.defineProperty(process.stderr, 'isTTY', tty);
    else delete (process.stderr as { isTTY?: boolean }).isTTY;
  });
}
/** The progress line: the ticker redraws it in place. */
const PROGRESS = /\r\u001b\[2K.*frames/;

describe('arcp record: the tape it writes', () => {
  it('refuses an existing file, leaving it as it was; --force replaces it, secrets redacted by default and --redact-header\'s header too', async () => {
    const t = tape('exists.tape');
    writeFileSync(t, 'keep me');
    const r = await start(['record', '--upstream', rt.url, '--tape', t]).done;
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/exists\.tape already exists \(pass another --tape path, or --force to replace it\)$/);
    expect(readFileSync(t, 'utf8')).toBe('keep me');

    const forced = await recording(['--upstream', rt.url, '--http', `/=${up.url}`, '--tape', t, '--force', '-q', '--redact-header', 'X-Org-Secret']);
    await session(forced.ws);
    await (await request(`${forced.http}/v1/models`, { headers: { 'x-org-secret': 'org-hunter2-value' } })).body.text();
    expect((await forced.run.stop()).code).toBe(0);
    expect(verifyTape(t)).toMatchObject({ ok: true, unsealed: false });
    expect(fileText(t)).not.toContain('"token":"tok"');
    expect(fileText(t)).toMatch(/"token":"\[arcp-redacted:1\]"/);
    expect(up.requests.at(-1)!.headers['x-org-secret']).toBe('org-hunter2-value'); // forwarded as sent
    expect(fileText(t)).not.toContain('org-hunter2-value');
    expect(String(readFrames(t).find((f) => f.kind === 'http.request')!.data)).toMatch(/"x-org-secret","\[arcp-redacted:\d+\]"/);
  });

  it('--no-redact keeps secrets; on a terminal, a progress line', async () => {
    onATerminal();
    const t = tape('clear.tape');
    const r = await recording(['--upstream', rt.url, '--tape', t, '--no-redact']);
    await session(r.ws);
    await until(() => PROGRESS.test(r.run.stderr()), 5000, 'a progress line');
    await r.run.stop();
    expect(fileText(t)).toContain('"token":"tok"');
  });

  it('--flush-ms: the writer takes frames no more often than asked; --quiet: no progress line on a terminal', async () => {
    onATerminal();
    const t = tape('flush.tape');
    const r = await recording(['--upstream', rt.url, '--tape', t, '--quiet', '--flush-ms', '100']);
    const c = await ArcpClient.connect(r.ws, { token: 'tok' });
    const job = c.submit({ agent: 'progress', input: { total: 100, tickMs: 10 } });
    // Watch the live tape grow: each step is one batch the writer took.
    const counts: number[] = [];
    let ended = false;
    void job.done.finally(() => (ended = true));
    const t0 = performance.now();
    await until(() => {
      const reader = TapeReader.open(t);
      const n = reader.frameCount();
      reader.close();
      if (n !== counts.at(-1)) counts.push(n);
      return ended;
    }, 10_000, 'the job');
    const ms = performance.now() - t0;
    await c.close();
    const run = await r.run.stop();
    expect(ms).toBeGreaterThan(1000); // longer than the progress ticker's second
    // At most one batch per 100 ms (and the one before the first poll); 50 ms batches would be twice as many.
    expect(counts.length - 1, `${counts.length - 1} batches in ${Math.round(ms)} ms`).toBeLessThanOrEqual(Math.ceil(ms / 100) + 1);
    expect(run.stderr).not.toMatch(PROGRESS);
    expect(run.stderr).not.toContain('\r\u001b[2K');
  });
});

describe('arcp record as a process', () => {
  it('with no --tape it writes tapes/<time>.tape in the working folder; SIGTERM stops it with the tape sealed', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'arcp-cwd-'));
    onTestFinished(() => rmSync(cwd, { recursive: true, force: true }));
    const p = reap(execa(process.execPath, [BIN, 'record', '--upstream', rt.url], { cwd, reject: false, env: { NO_COLOR: '1' } }));
    const url = await new Promise<string>((resolve, reject) => {
      p.stdout!.on('data', (d) => /ARCP_URL=(\S+)/.test(String(d)) && resolve(/ARCP_URL=(\S+)/.exec(String(d))![1]));
      void p.then((r) => reject(new Error(`record exited: ${r.stderr}`)));
    });
    await session(url);
    p.kill('SIGTERM');
    const r = await p;
    expect(r.exitCode, r.stderr).toBe(0);
    const files = readdirSync(join(cwd, 'tapes'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^\d{8}T\d{6}\.tape$/);
    const path = join(cwd, 'tapes', files[0]);
    expect(Math.abs(statSync(path).mtimeMs - Date.now())).toBeLessThan(60_000);
    expect(verifyTape(path)).toMatchObject({ ok: true, unsealed: false });
    expect(readFrames(path).some((f) => String(f.data).includes('"job.result"'))).toBe(true);
    expect(r.stderr).toMatch(/fingerprint fp1:[0-9a-f]{64}/);
  });

  it('a wrapped runtime finds the HTTP recorder in $ARCP_RECORD_HTTP_URL (and its one route in $ARCP_LLM_URL); its exit code is kept', async () => {
    const t = tape('wrapped.tape');
    const script = `const e = process.env;
await (await fetch(e.ARCP_RECORD_HTTP_URL + '/openai/v1/models')).text();
await (await fetch(e.ARCP_LLM_URL + '/embeddings', { method: 'POST', body: '{}' })).text();
process.exit(3);`;
    const r = await execa(process.execPath, [BIN, 'record', '--http', `/openai=${up.url}/v1`, '--tape', t, '-q', '--', process.execPath, '--input-type=module', '-e', script], { reject: false, env: { NO_COLOR: '1' } });
    expect(r.exitCode, r.stderr).toBe(3);
    expect(up.requests.slice(-2).map((q) => q.path)).toEqual(['/v1/v1/models', '/v1/embeddings']);
    const paths = readFrames(t).filter((f) => f.kind === 'http.request').map((f) => JSON.parse(String(f.data)).path);
    expect(paths).toEqual(['/openai/v1/models', '/openai/embeddings']);
  });
});
