import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as zlib from 'node:zlib';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { record, redactionRules } from '../../src/record/recorder.js';
import { serveReplay } from '../../src/replay/serve.js';
import { ZSTD_AVAILABLE } from '../../src/tape/body-encoding.js';
import { FLAG, ResponseHead } from '../../src/tape/format.js';
import { exportHar } from '../../src/tape/interchange/har.js';
import { scanTape } from '../../src/tape/scan.js';
import { verifyTape } from '../../src/tape/verify.js';
import { startLlmUpstream, type LlmUpstream } from '../helpers/llm-upstream.js';
import { readFrames, tapeDir } from '../helpers/tape.js';

const tape = tapeDir();
let up: LlmUpstream;
beforeAll(async () => (up = await startLlmUpstream()));
afterAll(() => up.close());

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Every response body of a tape, decoded with zlib directly (not with the code under test). */
function decodedBodies(path: string): { coding: string; raw: Buffer; text: string; flags: number }[] {
  const frames = readFrames(path);
  const out: { coding: string; raw: Buffer; text: string; flags: number }[] = [];
  for (const ch of new Set(frames.map((f) => f.channel))) {
    const fs = frames.filter((f) => f.channel === ch);
    const head = fs.find((f) => f.kind === 'http.response');
    if (!head) continue;
    const coding = ResponseHead.parse(JSON.parse(head.data.toString())).headers.find(([k]) => k === 'content-encoding')?.[1] ?? 'identity';
    const rows = fs.filter((f) => f.kind === 'http.response.body');
    const raw = Buffer.concat(rows.map((f) => f.data));
    const dec = coding === 'gzip' ? zlib.gunzipSync(raw) : coding === 'br' ? zlib.brotliDecompressSync(raw) : coding === 'deflate' ? (raw[0] === 0x78 ? zlib.inflateSync(raw) : zlib.inflateRawSync(raw)) : raw;
    out.push({ coding, raw, text: dec.toString('utf8'), flags: rows.reduce((n, f) => n | f.flags, 0) });
  }
  return out;
}

describe('compressed HTTP bodies: redacted, scanned, exported and matched decoded; forwarded as sent', () => {
  it('the OpenAI and Anthropic SDKs (gzip, deflate) get the upstream bytes; the tape holds no secret; replay serves valid bodies', async () => {
    const path = tape('sdk.tape');
    const rec = await record({
      tape: path,
      http: { routes: [{ prefix: '/openai', upstream: `${up.url}/v1` }, { prefix: '/anthropic', upstream: up.url }] },
      // Anthropic's message_start nests the message.
      redaction: redactionRules({ pointers: ['/secret_field', '/message/secret_field'] }),
    });
    const openai = new OpenAI({ baseURL: `${rec.addresses.http}/openai`, apiKey: 'sk-proj-CLIENTKEY0123456789abcdef', maxRetries: 0 });
    const anthropic = new Anthropic({ baseURL: `${rec.addresses.http}/anthropic`, apiKey: 'sk-ant-CLIENTKEY0123456789abcdef', maxRetries: 0 });

    const completion = await openai.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] });
    expect(up.requests.at(-1)!.headers['accept-encoding']).toMatch(/gzip/);
    const wire = up.lastWire;
    expect((completion as unknown as { secret_field: string }).secret_field).toBe(up.secret);
    const stream = await openai.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'stream' }], stream: true });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
    expect(text).toBe('Hello!');
    const message = await anthropic.messages.create({ model: 'claude-test', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    expect((message as unknown as { secret_field: string }).secret_field).toBe(up.secret);
    let atext = '';
    for await (const ev of anthropic.messages.stream({ model: 'claude-test', max_tokens: 10, messages: [{ role: 'user', content: 'stream' }] })) {
      if (ev.type === 'content_block_delta' && ev.delta.type === 'text_delta') atext += ev.delta.text;
    }
    expect(atext).toBe('Hello');
    // The bytes forwarded are the upstream's own: the client side is checked through a plain request.
    const plain = await request(`${rec.addresses.http}/openai/chat/completions`, { method: 'POST', headers: { 'accept-encoding': 'gzip', 'content-type': 'application/json' }, body: '{"model":"gpt-test"}' });
    const got = Buffer.from(await plain.body.arrayBuffer());
    expect(sha(got)).toBe(sha(up.lastWire));
    await rec.stop();

    const bodies = decodedBodies(path);
    expect(bodies.map((b) => b.coding)).toEqual(['gzip', 'gzip', 'gzip', 'gzip', 'gzip']);
    for (const b of bodies) {
      expect(b.text).not.toContain(up.secret);
      expect(b.raw.toString('latin1')).not.toContain(up.secret);
      expect(b.text).toMatch(/"secret_field":"\[arcp-redacted:\d+\]"/);
      expect(b.flags & FLAG.redacted && b.flags & FLAG.reencoded).toBeTruthy();
    }
    expect(bodies[0].raw.equals(wire)).toBe(false); // rewritten, and flagged as such
    expect(bodies[1].flags & FLAG.sse).toBeTruthy();
    expect(scanTape(path).findings).toEqual([]);
    expect(verifyTape(path).ok).toBe(true);

    // HAR holds decoded text (no U+FFFD), with the redaction in it.
    const har = exportHar(path) as { log: { entries: { response: { content: { text: string; encoding?: string } } }[] } };
    for (const e of har.log.entries) {
      expect(e.response.content.encoding).toBeUndefined();
      expect(e.response.content.text).not.toContain('\uFFFD');
      expect(e.response.content.text).toContain('[arcp-redacted:');
    }

    // Replay: the same SDK calls get valid (re-compressed) bodies carrying the placeholder.
    const r = await serveReplay({ tape: path, http: {} });
    const ro = new OpenAI({ baseURL: `${r.addresses.http}/openai`, apiKey: 'sk-proj-OTHERKEY', maxRetries: 0 });
    const ra = new Anthropic({ baseURL: `${r.addresses.http}/anthropic`, apiKey: 'sk-ant-OTHERKEY', maxRetries: 0 });
    const again = await ro.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] });
    expect(again.choices[0].message.content).toBe('Hello from the upstream');
    expect((again as unknown as { secret_field: string }).secret_field).toMatch(/^\[arcp-redacted:\d+\]$/);
    let replayed = '';
    for await (const c of await ro.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'stream' }], stream: true })) replayed += c.choices[0]?.delta?.content ?? '';
    expect(replayed).toBe('Hello!');
    expect((await ra.messages.create({ model: 'claude-test', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })).content).toEqual([{ type: 'text', text: 'Hello from the upstream' }]);
    let ratext = '';
    for await (const ev of ra.messages.stream({ model: 'claude-test', max_tokens: 10, messages: [{ role: 'user', content: 'stream' }] })) {
      if (ev.type === 'content_block_delta' && ev.delta.type === 'text_delta') ratext += ev.delta.text;
    }
    expect(ratext).toBe('Hello');
    const last = await request(`${r.addresses.http}/openai/chat/completions`, { method: 'POST', headers: { 'accept-encoding': 'gzip', 'content-type': 'application/json' }, body: '{"model":"gpt-test"}' });
    expect(JSON.parse(zlib.gunzipSync(Buffer.from(await last.body.arrayBuffer())).toString()).secret_field).toMatch(/^\[arcp-redacted:/);
    const report = await r.done;
    expect(report.ok).toBe(true);
  });

  it.each(['br', 'deflate', 'deflate-raw'])('%s: forwarded byte for byte, stored redacted, re-encoded the same way', async (coding) => {
    const path = tape(`${coding}.tape`);
    up.encoding = coding;
    try {
      const rec = await record({ tape: path, http: { routes: [{ prefix: '/', upstream: up.url }] }, redaction: redactionRules({ pointers: ['/secret_field'] }) });
      for (const stream of [false, true]) {
        const res = await request(`${rec.addresses.http}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', stream }) });
        expect(sha(Buffer.from(await res.body.arrayBuffer()))).toBe(sha(up.lastWire));
      }
      await rec.stop();
      const bodies = decodedBodies(path);
      expect(bodies).toHaveLength(2);
      for (const b of bodies) {
        expect(b.text).not.toContain(up.secret);
        expect(b.text).toContain('"secret_field":"[arcp-redacted:');
        if (coding === 'deflate-raw') expect(b.raw[0]).not.toBe(0x78); // raw stays raw
      }
      expect(scanTape(path).findings).toEqual([]);
    } finally {
      up.encoding = undefined;
    }
  });

  it('tape scan finds a secret inside a gzip body of a tape recorded with --no-redact', async () => {
    const path = tape('clear.tape');
    const rec = await record({ tape: path, http: { routes: [{ prefix: '/', upstream: up.url }] }, redaction: redactionRules({ redact: false }) });
    const res = await request(`${rec.addresses.http}/v1/chat/completions`, { method: 'POST', headers: { 'accept-encoding': 'gzip', 'content-type': 'application/json' }, body: '{"model":"m"}' });
    await res.body.arrayBuffer();
    await rec.stop();
    const raw = Buffer.concat(readFrames(path).filter((f) => f.kind === 'http.response.body').map((f) => f.data));
    expect(raw.toString('latin1')).not.toContain(up.secret); // compressed: a plain text search sees nothing
    const { findings } = scanTape(path);
    expect(findings.map((f) => `${f.kind} ${f.rule}`)).toEqual(['http.response.body OpenAI/Anthropic-style key']);
  });

  it('a body in a coding this Node cannot decode (zstd on Node 20) is stored as it came and tape scan says it was not inspected', async () => {
    const odd = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'zstd' }).end(`not really zstd ${up.secret}`));
    await new Promise<void>((r) => odd.listen(0, '127.0.0.1', r));
    try {
      const path = tape('zstd.tape');
      const rec = await record({ tape: path, http: { routes: [{ prefix: '/', upstream: `http://127.0.0.1:${(odd.address() as AddressInfo).port}` }] }, redaction: redactionRules({ pointers: ['/secret_field'] }) });
      const res = await request(`${rec.addresses.http}/x`);
      expect(await res.body.text()).toBe(`not really zstd ${up.secret}`);
      await rec.stop();
      const findings = scanTape(path).findings.map((f) => `${f.rule}: ${f.preview}`);
      expect(findings).toContain(`body not inspected: content-encoding zstd cannot be decoded here${ZSTD_AVAILABLE ? '' : ' (zstd needs Node 22.15+)'}`);
    } finally {
      odd.close();
    }
  });

  it('a compressed request body is matched decoded on replay', async () => {
    const path = tape('gzreq.tape');
    const rec = await record({ tape: path, http: { routes: [{ prefix: '/', upstream: up.url }] } });
    const send = (base: string, body: object, level: number) =>
      request(`${base}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: zlib.gzipSync(JSON.stringify(body), { level }) });
    await (await send(rec.addresses.http!, { model: 'm', messages: ['a'] }, 1)).body.text();
    await rec.stop();
    const r = await serveReplay({ tape: path, http: {} });
    // Other compressed bytes (another level, keys in another order): the same request.
    const res = await send(r.addresses.http!, { messages: ['a'], model: 'm' }, 9);
    expect(res.statusCode).toBe(200);
    await res.body.text();
    expect((await r.done).ok).toBe(true);
  });
});
