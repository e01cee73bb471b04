import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { record, redactionRules } from '../../src/record/recorder.js';
import { chunksOf, FLAG, RequestHead, ResponseHead } from '../../src/tape/format.js';
import { verifyTape } from '../../src/tape/verify.js';
import { readFrames, tapeDir } from '../helpers/tape.js';

const tape = tapeDir();
const EVENTS = 100;
let upstream: Server;
let base = '';
let firstSeen: () => void = () => undefined;
const written: string[] = [];
const BIG_CHUNKS = 128;
const bigChunk = (i: number) => Buffer.alloc(64 * 1024, i % 251);
const bodies: string[] = [];

beforeAll(async () => {
  upstream = createServer(async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    bodies.push(body);
    if (req.url === '/v1/chat/completions') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'set-cookie': 'sid=abc123; HttpOnly' });
      const clientHasFirst = new Promise<void>((r) => (firstSeen = r));
      for (let i = 0; i < EVENTS; i++) {
        const ev = `id: ${i}\nevent: delta\ndata: {"index":${i},"delta":"tok${i}","session_key":"sk-session-${i}"}\n\n`;
        written.push(ev);
        res.write(ev);
        // Streaming, not buffering: the rest waits until the client has the first event.
        if (i === 0) await clientHasFirst;
        await new Promise((r) => setTimeout(r, 3));
      }
      res.end();
    } else if (req.url === '/v1/big') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      for (let i = 0; i < BIG_CHUNKS; i++) if (!res.write(bigChunk(i))) await new Promise((r) => res.once('drain', r));
      res.end();
    } else if (req.url?.startsWith('/v1/models')) {
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'req_1' }).end(JSON.stringify({ data: [{ id: 'gpt-x' }], got_bytes: body.length }));
    } else res.writeHead(404).end('nope');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(() => upstream.close());

describe('arcp record: HTTP reverse proxy for LLM calls', () => {
  it('streams SSE through with its chunk boundaries and timing, redacts headers, bodies and SSE data', async () => {
    const path = tape('llm.tape');
    const rec = await record({
      tape: path,
      http: { routes: [{ prefix: '/llm', upstream: `${base}/v1` }, { prefix: '/other', upstream: 'http://127.0.0.1:1' }] },
      redaction: redactionRules({ pointers: ['/api_key', '/session_key'] }),
    });
    const url = rec.addresses.http!;
    const models = await request(`${url}/llm/models?limit=1`, { method: 'POST', headers: { 'x-api-key': 'key-123456', 'content-type': 'application/json' }, body: '{"api_key":"sk-body-secret","q":1}' });
    expect(models.statusCode).toBe(200);
    expect(models.headers['x-request-id']).toBe('req_1');
    expect(await models.body.json()).toEqual({ data: [{ id: 'gpt-x' }], got_bytes: 34 });

    const res = await request(`${url}/llm/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer sk-live-abcdef', 'content-type': 'application/json' }, body: '{"model":"gpt-x","stream":true}' });
    expect(res.headers['content-type']).toBe('text/event-stream');
    let got = '';
    for await (const chunk of res.body) {
      got += chunk;
      firstSeen();
    }
    expect(got).toBe(written.join(''));

    const dead = await request(`${url}/other/x`);
    expect(dead.statusCode).toBe(502);
    expect(((await dead.body.json()) as { error: { message: string } }).error.message).toMatch(/upstream http:\/\/127\.0\.0\.1:1 unreachable: ECONNREFUSED/);
    const unrouted = await request(`${url}/nowhere`);
    expect(unrouted.statusCode).toBe(404);
    await unrouted.body.text();
    await rec.stop();

    const frames = readFrames(path);
    const channels = new Set(frames.map((f) => f.channel));
    expect(channels.size).toBe(4);
    // Rows may hold several chunks (parts): expand them to the chunks as they arrived.
    const sse = frames.filter((f) => f.kind === 'http.response.body' && f.flags & FLAG.sse).flatMap((f) => chunksOf(f).map((c) => ({ ...c, seq: f.seq })));
    // A frame per chunk as it arrived: boundaries fall only where the upstream flushed (TCP may
    // merge two flushes under load, never split one), and the gaps between them are kept.
    const unredact = (t: string) => t.replace(/\[arcp-redacted:\d+\]/g, 'X');
    const wrote = written.map((w) => unredact(w.replace(/sk-session-\d+/, 'X')));
    let at = 0;
    for (const f of sse) {
      let text = unredact(f.data.toString());
      while (text.length) {
        expect(text.startsWith(wrote[at]), `chunk ${f.seq} starts at write ${at}`).toBe(true);
        text = text.slice(wrote[at++].length);
      }
    }
    expect(at).toBe(EVENTS);
    expect(sse.length).toBeGreaterThanOrEqual(EVENTS * 0.9);
    expect(sse.map((f) => f.data.toString()).join('')).not.toMatch(/sk-session-/);
    const gaps = sse.slice(2).map((f, i) => f.mono_us - sse[i + 1].mono_us).sort((a, b) => a - b);
    expect(gaps[Math.floor(gaps.length / 2)]).toBeGreaterThan(2000);

    const heads = frames.filter((f) => f.kind === 'http.request').map((f) => RequestHead.parse(JSON.parse(f.data.toString())));
    expect(heads.map((h) => `${h.method} ${h.path}`)).toEqual(['POST /llm/models?limit=1', 'POST /llm/chat/completions', 'GET /other/x', 'GET /nowhere']);
    const resHeads = frames.filter((f) => f.kind === 'http.response').map((f) => ResponseHead.parse(JSON.parse(f.data.toString())));
    expect(resHeads.map((h) => h.status)).toEqual([200, 200, 502, 404]);
    const text = frames.map((f) => f.data.toString()).join('\n');
    for (const secret of ['key-123456', 'sk-live-abcdef', 'sk-body-secret', 'sid=abc123', 'sk-session-7']) expect(text).not.toContain(secret);
    expect(text).toContain('"api_key":"[arcp-redacted:');
    // The upstream got the secrets: redaction is for the tape only.
    expect(bodies[0]).toBe('{"api_key":"sk-body-secret","q":1}');
    expect(verifyTape(path).ok).toBe(true);
  });

  // That the pause holds the upstream back is proven in http-backpressure.test.ts: 8 MiB fits in
  // the sockets' buffers, so here it would pass without the hold.
  it('a client that pauses still gets every byte, in order; the tape has them all', async () => {
    const path = tape('big.tape');
    const rec = await record({ tape: path, http: { routes: [{ prefix: '/', upstream: `${base}/v1` }] } });
    const res = await request(`${rec.addresses.http!}/big`);
    const got: Buffer[] = [];
    let paused = false;
    for await (const chunk of res.body) {
      got.push(chunk as Buffer);
      if (!paused) {
        paused = true; // stop reading for a while: the proxy must not lose or reorder what it holds
        await new Promise((r) => setTimeout(r, 300));
      }
    }
    await rec.stop();
    const expected = Buffer.concat(Array.from({ length: BIG_CHUNKS }, (_, i) => bigChunk(i)));
    expect(Buffer.concat(got).equals(expected)).toBe(true);
    const recorded = Buffer.concat(readFrames(path).filter((f) => f.kind === 'http.response.body').map((f) => f.data));
    expect(recorded.equals(expected)).toBe(true);
    expect(verifyTape(path).ok).toBe(true);
  });

  it('a tape writer that falls behind pauses the upstream until it catches up; nothing is lost', async () => {
    const path = tape('behind.tape');
    // 64 KiB of backlog: every flush of this 8 MiB body leaves the writer behind.
    const rec = await record({ tape: path, http: { routes: [{ prefix: '/', upstream: `${base}/v1` }] }, maxBacklogBytes: 64 * 1024, flushMs: 5 });
    const res = await request(`${rec.addresses.http!}/big`);
    const got = Buffer.from(await res.body.arrayBuffer());
    const { tapePauses } = rec.stats();
    await rec.stop();
    const expected = Buffer.concat(Array.from({ length: BIG_CHUNKS }, (_, i) => bigChunk(i)));
    expect(got.equals(expected)).toBe(true);
    expect(tapePauses).toBeGreaterThan(0);
    const recorded = Buffer.concat(readFrames(path).filter((f) => f.kind === 'http.response.body').map((f) => f.data));
    expect(recorded.equals(expected)).toBe(true);
    expect(verifyTape(path).ok).toBe(true);
  });
});
