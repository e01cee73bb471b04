import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { startHttpProxy } from '../../src/record/http-proxy.js';
import type { Responder } from '../../src/record/http-respond.js';
import { chunksOf, RequestHead, ResponseHead } from '../../src/tape/format.js';
import { defaultRules } from '../../src/tape/redact.js';
import { TapeWriter } from '../../src/tape/writer.js';
import { until } from '../helpers/runtime.js';
import { readFrames, tapeDir } from '../helpers/tape.js';

const tape = tapeDir();

describe('the recording HTTP proxy with a responder (the extension point fork answers through)', () => {
  it('records an answer it gives like a forwarded one, forwards what it passes on with the body it read, and 502s a responder that throws', async () => {
    const got: string[] = [];
    const upstream = createServer(async (req, res) => {
      let body = '';
      for await (const c of req) body += c;
      got.push(`${req.method} ${req.url} ${body}`);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('from upstream');
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const path = tape('respond.tape');
    const w = await TapeWriter.create({ path, commandLine: ['test'], redaction: defaultRules() });
    const respond: Responder = (req) => {
      if (req.path.endsWith('/boom')) throw new Error('arcp fork: no answer here');
      if (!req.body.toString().includes('canned')) return undefined;
      return { status: 201, headers: [['content-type', 'text/event-stream']], chunks: [{ data: Buffer.from('data: 1\n\n'), delayMs: 0 }, { data: Buffer.from('data: 2\n\n'), delayMs: 40 }] };
    };
    const proxy = await startHttpProxy(w, { routes: [{ prefix: '/llm', upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1` }], respond });
    const post = async (p: string, body: string) => {
      const r = await request(`${proxy.address}${p}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      return { status: r.statusCode, text: await r.body.text() };
    };
    expect(await post('/llm/chat', '{"want":"canned"}')).toEqual({ status: 201, text: 'data: 1\n\ndata: 2\n\n' });
    expect(await post('/llm/chat', '{"want":"live"}')).toEqual({ status: 200, text: 'from upstream' });
    const boom = await post('/llm/boom', '{}');
    expect(boom.status).toBe(502);
    expect(boom.text).toContain('arcp fork: no answer here');
    // Answered, passed on or failed, each exchange is counted while it runs and no longer after.
    expect(proxy.seen).toBe(3);
    await until(() => proxy.active === 0, 5000, 'no exchange in progress');
    await proxy.close();
    await w.close();
    upstream.close();
    // The upstream got only the exchange the responder passed on, with its body intact.
    expect(got).toEqual(['POST /v1/chat {"want":"live"}']);
    const frames = readFrames(path);
    const byChannel = (ch: number) => frames.filter((f) => f.channel === ch);
    const canned = byChannel(1);
    expect([...new Set(canned.map((f) => f.kind))]).toEqual(['http.request', 'http.request.body', 'http.response', 'http.response.body', 'transport.close']);
    expect(RequestHead.parse(JSON.parse(canned[0].data.toString())).path).toBe('/llm/chat');
    expect(ResponseHead.parse(JSON.parse(canned.find((f) => f.kind === 'http.response')!.data.toString())).status).toBe(201);
    const chunks = canned.filter((f) => f.kind === 'http.response.body').flatMap((f) => chunksOf(f));
    expect(chunks.map((c) => c.data.toString())).toEqual(['data: 1\n\n', 'data: 2\n\n']);
    // Written with the delay it asked for, and recorded as written.
    expect(chunks[1].mono_us - chunks[0].mono_us).toBeGreaterThanOrEqual(35_000);
    expect(byChannel(2).filter((f) => f.kind === 'http.request.body').map((f) => f.data.toString())).toEqual(['{"want":"live"}']);
    expect(Buffer.concat(byChannel(2).filter((f) => f.kind === 'http.response.body').map((f) => f.data)).toString()).toBe('from upstream');
  });
});
