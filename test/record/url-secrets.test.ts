import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { record, redactionRules } from '../../src/record/recorder.js';
import { serveReplay } from '../../src/replay/serve.js';
import { TapeReader } from '../../src/tape/reader.js';
import { scanTape } from '../../src/tape/scan.js';
import { arcp, BIN } from '../helpers/cli.js';
import { startLlmUpstream, type LlmUpstream } from '../helpers/llm-upstream.js';
import { startRuntime } from '../helpers/runtime.js';
import { tapeDir } from '../helpers/tape.js';
import { execa } from 'execa';

const tape = tapeDir();
let up: LlmUpstream;
beforeAll(async () => (up = await startLlmUpstream()));
afterAll(() => up.close());

const KEY = 'AIzaSyA-0123456789abcdefghijklmnopqrstu';
const TOKEN = 'ya29.tokentokentoken0123456789';

/** Every string a tape file holds, read as bytes off disk: meta, channels, frames, blobs. */
const fileText = (path: string) => readFileSync(path).toString('latin1');

describe('secrets in URLs (issue 12 §4)', () => {
  it('credential query parameters and --redact-regex matches in paths never reach the tape; the upstream gets them; replay matches the live URL', async () => {
    const path = tape('query.tape');
    const rec = await record({ tape: path, http: { routes: [{ prefix: '/', upstream: up.url }] }, redaction: redactionRules({ regexes: ['acct-[0-9]{6}'], pointers: ['/secret_field'] }) });
    const url = `/v1/chat/completions?key=${KEY}&access_token=${TOKEN}&model=m`;
    const res = await request(`${rec.addresses.http}${url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"m"}' });
    await res.body.text();
    await (await request(`${rec.addresses.http}/v1/chat/completions/acct-123456?API_KEY=sk-proj-abcdefghijklmnopqrstuvwx`, { method: 'POST', body: '{}' })).body.text();
    await rec.stop();
    expect(up.requests.at(-2)!.path).toBe(url); // forwarded unchanged
    expect(up.requests.at(-1)!.path).toContain('acct-123456');
    const t = TapeReader.open(path);
    const channels = t.channels();
    const heads = [...t.frames()].filter((f) => f.kind === 'http.request').map((f) => JSON.parse(f.data.toString()).path as string);
    t.close();
    expect(heads[0]).toMatch(/^\/v1\/chat\/completions\?key=\[arcp-redacted:\d+\]&access_token=\[arcp-redacted:\d+\]&model=m$/);
    expect(heads[1]).toMatch(/^\/v1\/chat\/completions\/\[arcp-redacted:\d+\]\?API_KEY=\[arcp-redacted:\d+\]$/);
    expect(channels[0].label).toContain('key=[arcp-redacted:');
    expect(channels[0].info.url).toContain('access_token=[arcp-redacted:');
    for (const secret of [KEY, TOKEN, 'acct-123456', 'sk-proj-abcdefghijklmnopqrstuvwx']) expect(fileText(path)).not.toContain(secret);
    expect(scanTape(path).findings).toEqual([]);

    // The live client sends the real key again: the redacted recorded URL still matches it.
    const r = await serveReplay({ tape: path, http: {} });
    const again = await request(`${r.addresses.http}${url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"m"}' });
    expect(again.statusCode).toBe(200);
    await again.body.text();
    const other = await request(`${r.addresses.http}/v1/chat/completions/acct-999999?API_KEY=other`, { method: 'POST', body: '{}' });
    expect(other.statusCode).toBe(200);
    await other.body.text();
    expect((await r.done).ok).toBe(true);
  });

  it('a WebSocket URL\'s query (and a password in the upstream URL) is redacted in the channel label and info', async () => {
    const runtime = await startRuntime();
    try {
      const path = tape('ws.tape');
      const upstream = runtime.url.replace('ws://', 'ws://user:hunter2pass@');
      const rec = await record({ tape: path, ws: { upstream } });
      const ws = new WebSocket(`${rec.addresses.ws}/arcp?access_token=${TOKEN}&session=s1`);
      await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
      ws.close(1000);
      await new Promise((r) => ws.once('close', r));
      await rec.stop();
      const text = fileText(path);
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain('hunter2pass');
      const t = TapeReader.open(path);
      const [ch] = t.channels();
      t.close();
      expect(ch.label).toMatch(/access_token=\[arcp-redacted:\d+\]&session=s1/);
      expect(ch.info.upstream).toMatch(/user:\[arcp-redacted:\d+\]@/);
      expect(scanTape(path).findings).toEqual([]);
    } finally {
      await runtime.close();
    }
  });

  it('tape scan finds credential query parameters left in clear (--no-redact)', async () => {
    const path = tape('clear.tape');
    const rec = await record({ tape: path, http: { routes: [{ prefix: '/', upstream: up.url }] }, redaction: redactionRules({ redact: false }) });
    await (await request(`${rec.addresses.http}/v1/models?access_token=${TOKEN}`)).body.text();
    await rec.stop();
    const rules = scanTape(path).findings.filter((f) => f.kind !== 'http.response.body').map((f) => `${f.kind}: ${f.rule}`);
    expect(rules).toEqual(['http.request: query access_token', 'channel: query access_token']);
  });

  it('the stored rules and command line hold no rule text or token; the tape file does not contain them anywhere', async () => {
    const path = tape('cli.tape');
    const child = execa(process.execPath, [BIN, 'record', '--http', `/=${up.url}`, '--tape', path, '--redact-regex', 'hunter2[a-z]+', '--redact-pointer', '/my_private_field', '--redact-query', 'session_secret', '--json', '--', process.execPath, '-e', 'setTimeout(()=>{}, 60000)', 'runtime', '--token', 'tok-in-argv-42'], { reject: false, env: { NO_COLOR: '1' } });
    const addr = await new Promise<string>((resolve) => child.stderr!.on('data', (d: Buffer) => /"http":"([^"]+)"/.test(String(d)) && resolve(/"http":"([^"]+)"/.exec(String(d))![1])));
    await (await request(`${addr}/v1/models?session_secret=zzzsecretzzz&q=hunter2abc`)).body.text();
    child.kill('SIGINT');
    await child;
    const text = fileText(path);
    for (const s of ['hunter2', 'my_private_field', 'session_secret=zzz', 'zzzsecretzzz', 'tok-in-argv-42']) expect(text, s).not.toContain(s);
    const show = await arcp(['tape', 'show', path, '--json', '--limit', '0']);
    const meta = JSON.parse(show.stdout.split('\n')[0]).meta;
    expect(meta.redaction).toMatchObject({ enabled: true, counts: { regexes: 1, pointers: 3, query: expect.any(Number) } });
    expect(meta.redaction.extra_digest).toMatch(/^scrypt:[0-9a-f]{32}:[0-9a-f]{64}$/);
    expect(meta.command_line).toContain('--redact-regex');
    expect(meta.command_line[meta.command_line.indexOf('--redact-regex') + 1]).toBe('[arcp-redacted]');
    expect(meta.command_line[meta.command_line.indexOf('--token') + 1]).toBe('[arcp-redacted]');
  });
});
