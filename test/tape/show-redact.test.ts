import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { record, redactionRules } from '../../src/record/recorder.js';
import { serveReplay } from '../../src/replay/serve.js';
import { arcp } from '../helpers/cli.js';
import { startLlmUpstream, type LlmUpstream } from '../helpers/llm-upstream.js';
import { readFrames, tapeDir } from '../helpers/tape.js';

const tape = tapeDir();
let up: LlmUpstream;
let path = '';

/** A tape of three OpenAI SDK calls through the recorder (gzip): a completion, a stream, and a 429. */
async function sdkTape(name: string, redact: boolean): Promise<string> {
  const p = tape(name);
  const rec = await record({ tape: p, http: { routes: [{ prefix: '/openai', upstream: `${up.url}/v1` }] }, redaction: redactionRules({ redact }) });
  const sdk = new OpenAI({ baseURL: `${rec.addresses.http}/openai`, apiKey: 'sk-test', maxRetries: 0 });
  await sdk.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
  for await (const _ of await sdk.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'stream' }], stream: true })) void _;
  up.next.push('429');
  await sdk.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'again' }] }).catch(() => undefined);
  await rec.stop();
  return p;
}

beforeAll(async () => {
  up = await startLlmUpstream();
  path = await sdkTape('sdk.tape', true);
});
afterAll(() => up.close());

describe('tape show: payloads, bodies, filters, textconv', () => {
  it('--frame N prints a head as pretty JSON and a compressed body decoded', async () => {
    const frames = readFrames(path);
    const head = frames.find((f) => f.kind === 'http.response')!;
    const body = frames.find((f) => f.kind === 'http.response.body')!;
    const h = await arcp(['tape', 'show', path, '--frame', String(head.seq)]);
    expect(h.exitCode).toBe(0);
    expect(h.stdout).toContain('"status": 200');
    const b = await arcp(['tape', 'show', path, '--frame', String(body.seq)]);
    expect(b.stdout).toMatch(/json, decoded from gzip/);
    expect(b.stdout).toContain('"content": "Hello from the upstream"');
    const none = await arcp(['tape', 'show', path, '--frame', '9999']);
    expect(none.exitCode).toBe(2);
    expect(none.stderr.trim()).toMatch(/^arcp: .* has no frame 9999 \(its frames are 1…\d+/);
  });

  it('--body prints request and response bodies, SSE reassembled into the streamed text; filters pick exchanges and frames', async () => {
    const all = await arcp(['tape', 'show', path, '--body']);
    expect(all.stdout).toContain('"content": "stream"');
    expect(all.stdout).toMatch(/streamed text:\n\s+Hello!/);
    const rate = await arcp(['tape', 'show', path, '--body', '--status', '4xx']);
    expect(rate.stdout.match(/^ch\d+ POST/gm)).toHaveLength(1);
    expect(rate.stdout).toContain('rate_limit_error');
    const timeline = (args: string[]) => arcp(['tape', 'show', path, '--json', ...args]).then((r) => r.stdout.trim().split('\n').slice(1).map((l) => JSON.parse(l) as { kind: string; channel: number }));
    const limited = await timeline(['--grep', 'slow down']);
    expect(new Set(limited.map((r) => r.channel)).size).toBe(1);
    expect((await timeline(['--kind', 'http.response'])).map((r) => r.kind)).toEqual(['http.response', 'http.response', 'http.response']);
    expect(await timeline(['--method', 'GET'])).toEqual([]);
    expect((await timeline(['--route', '/openai', '--status', '200'])).length).toBeGreaterThan(4);
    const bad = await arcp(['tape', 'show', path, '--status', 'teapot']);
    expect(bad.exitCode).toBe(2);
  });

  it('--textconv is diffable text: bodies decoded, no times; the same on two reads', async () => {
    const a = await arcp(['tape', 'show', path, '--textconv']);
    expect(a.exitCode).toBe(0);
    expect(a.stdout).toMatch(/\(the 1 row\(s\) above: \d+ bytes gzip; decoded:\)\n {2}\{"id":"chatcmpl-1"/);
    expect(a.stdout).not.toMatch(/\d+\.\dms/);
    expect((await arcp(['tape', 'show', path, '--textconv'])).stdout).toBe(a.stdout);
  });
});

describe('tape redact: the same rules after recording', () => {
  it('a tape recorded with --no-redact comes out clean (compressed bodies included) and still replays; the input stays as it was', async () => {
    const raw = await sdkTape('raw.tape', false);
    const dirty = await arcp(['tape', 'scan', raw]);
    expect(dirty.exitCode).toBe(1);
    const clean = tape('clean.tape');
    const r = await arcp(['tape', 'redact', raw, '--pointer', '/secret_field', '--out', clean]);
    expect(r.exitCode, r.stderr).toBe(0);
    const scanned = await arcp(['tape', 'scan', clean]);
    expect(scanned.exitCode, scanned.stdout).toBe(0);
    expect((await arcp(['tape', 'scan', raw])).exitCode).toBe(1);
    const show = JSON.parse((await arcp(['tape', 'show', clean, '--json', '--limit', '0'])).stdout.split('\n')[0]);
    expect(show.meta.lineage).toMatchObject({ parent: raw, note: 'arcp tape redact' });
    expect(show.meta.command_line.join(' ')).not.toContain('/secret_field');

    const replay = await serveReplay({ tape: clean, http: {} });
    const sdk = new OpenAI({ baseURL: `${replay.addresses.http}/openai`, apiKey: 'sk-other', maxRetries: 0 });
    const got = await sdk.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    expect((got as unknown as { secret_field: string }).secret_field).toMatch(/^\[arcp-redacted:\d+\]$/);
    for await (const _ of await sdk.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'stream' }], stream: true })) void _;
    await sdk.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'again' }] }).catch(() => undefined);
    expect((await replay.done).ok).toBe(true);

    const same = await arcp(['tape', 'redact', raw, '--out', raw]);
    expect(same.exitCode).toBe(2);
    expect(same.stderr).toMatch(/is the tape being read/);
  });
});
