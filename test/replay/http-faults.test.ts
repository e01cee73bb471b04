import OpenAI from 'openai';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { record } from '../../src/record/recorder.js';
import { parseHttpFault } from '../../src/replay/http-faults.js';
import { serveReplay } from '../../src/replay/serve.js';
import { arcp } from '../helpers/cli.js';
import { startLlmUpstream, type LlmUpstream } from '../helpers/llm-upstream.js';
import { tapeDir } from '../helpers/tape.js';

const tape = tapeDir();
let up: LlmUpstream;
let path = '';
const stream = (base: string) => request(`${base}/openai/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'stream' }], stream: true }) });
/** Each chunk as it arrived, and when. */
async function chunks(base: string) {
  const t0 = performance.now();
  const res = await stream(base);
  const out: { at: number; text: string }[] = [];
  for await (const c of res.body) out.push({ at: performance.now() - t0, text: String(c) });
  return out;
}

beforeAll(async () => {
  up = await startLlmUpstream();
  up.encoding = 'identity'; // chunks as the events were written (compressed bodies are covered elsewhere)
  path = tape('llm.tape');
  const rec = await record({ tape: path, http: { routes: [{ prefix: '/openai', upstream: `${up.url}/v1` }] } });
  const sdk = new OpenAI({ baseURL: `${rec.addresses.http}/openai`, apiKey: 'sk-test', maxRetries: 0 });
  await sdk.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
  for await (const _ of await sdk.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'stream' }], stream: true })) void _;
  await rec.stop();
});
afterAll(() => up.close());

describe('HTTP faults aimed at an exchange (an agent\'s retry logic, offline)', () => {
  it('status@openai:1=429: the OpenAI SDK waits retry-after and retries; the retry gets the recorded answer', async () => {
    const before = up.requests.length;
    const r = await serveReplay({ tape: path, http: { faults: [parseHttpFault('status@openai:1=429')], keepServing: true } });
    const sdk = new OpenAI({ baseURL: `${r.addresses.http}/openai`, apiKey: 'sk-test', maxRetries: 2 });
    const t0 = performance.now();
    const got = await sdk.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    expect(got.choices[0].message.content).toBe('Hello from the upstream');
    expect(performance.now() - t0).toBeGreaterThan(900); // retry-after: 1
    const report = await r.stop();
    expect(report.ok).toBe(true);
    expect(report.notes).toContain('fault status@openai:1=429 injected (HTTP channel 1)');
    expect(up.requests.length).toBe(before);
  });

  it('reset@openai:2=2: the stream is cut after two chunks; the retry gets the whole stream', async () => {
    const r = await serveReplay({ tape: path, http: { faults: [parseHttpFault('reset@openai:2=2')], keepServing: true } });
    const res = await stream(r.addresses.http!);
    const got: string[] = [];
    const err = await (async () => {
      for await (const c of res.body) got.push(String(c));
    })().then(
      () => 'ended cleanly',
      (e: Error & { code?: string }) => e.code ?? e.message,
    );
    expect(err).toMatch(/UND_ERR_SOCKET|ECONNRESET|terminated|other side closed/);
    const again = (await chunks(r.addresses.http!)).map((c) => c.text).join('');
    expect(again).toContain('[DONE]');
    // Two of the recorded chunks (one event each), then nothing: a prefix of the whole stream.
    const cut = got.join('');
    expect(again.startsWith(cut)).toBe(true);
    expect(cut.split('\n\n').filter(Boolean)).toHaveLength(2);
    expect((await r.stop()).ok).toBe(true);
  });

  it('slow@ delays the first chunk; stall@ the second', async () => {
    const slow = await serveReplay({ tape: path, http: { faults: [parseHttpFault('slow@openai:2=400')], keepServing: true } });
    const s = await chunks(slow.addresses.http!);
    await slow.stop();
    expect(s[0].at).toBeGreaterThan(380);
    const stall = await serveReplay({ tape: path, http: { faults: [parseHttpFault('stall@http:2=400')], keepServing: true } });
    const t = await chunks(stall.addresses.http!);
    await stall.stop();
    expect(t[0].at).toBeLessThan(300);
    expect(t[1].at - t[0].at).toBeGreaterThan(380);
  });

  it('a fault aimed at an exchange the tape lacks, or malformed, is one line and exit 2; one never requested is a note', async () => {
    const missing = await arcp(['replay', path, '--http-port', '0', '--fault', 'status@openai:9=429']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr.trim()).toMatch(/^arcp: --fault "status@openai:9=429": the tape has no exchange openai:9 \(exchanges by route: openai: 2; http:N counts them all\)/);
    const bad = await arcp(['replay', path, '--http-port', '0', '--fault', 'status@openai:1=99']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/status needs =CODE between 200 and 599/);
    const r = await serveReplay({ tape: path, http: { faults: [parseHttpFault('stall@openai:2=10')], keepServing: true } });
    await (await request(`${r.addresses.http}/openai/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"messages":[{"role":"user","content":"hi"}],"model":"m"}' })).body.text();
    expect((await r.stop()).notes).toContain('fault stall@openai:2=10 never fired: its exchange was not requested');
  });
});
