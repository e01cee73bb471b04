import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { record } from '../../src/record/recorder.js';
import { serveReplay } from '../../src/replay/serve.js';
import { chunksOf } from '../../src/tape/format.js';
import { readFrames, tapeDir } from '../helpers/tape.js';

const tape = tapeDir();
let path = '';
let upstreamConnections = 0;
const upstream = createServer(async (req, res) => {
  let body = '';
  for await (const c of req) body += c;
  const prompt = JSON.parse(body || '{}').messages?.[0]?.content ?? '';
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (let i = 0; i < 5; i++) {
    res.write(`event: delta\ndata: {"i":${i},"echo":${JSON.stringify(prompt)}}\n\n`);
    await new Promise((r) => setTimeout(r, 20));
  }
  res.end('data: [DONE]\n\n');
});
upstream.on('connection', () => upstreamConnections++);

const ask = async (base: string, content: string) => {
  const r = await request(`${base}/llm/chat`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-live-123456789012345678' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content }], stream: true, request_id: `req_${Math.random()}` }) });
  const chunks: { at: number; text: string }[] = [];
  for await (const c of r.body) chunks.push({ at: performance.now(), text: String(c) });
  return { status: r.statusCode, headers: r.headers, chunks };
};

let recorded: Awaited<ReturnType<typeof ask>>[] = [];
beforeAll(async () => {
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  path = tape('llm.tape');
  const rec = await record({ tape: path, http: { routes: [{ prefix: '/llm', upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` }] } });
  recorded = [await ask(rec.addresses.http!, 'first question'), await ask(rec.addresses.http!, 'second question')];
  await rec.stop();
  const frames = readFrames(path);
  tapeChunks = [...new Set(frames.map((f) => f.channel))].map((ch) => frames.filter((f) => f.channel === ch && f.kind === 'http.response.body').flatMap((f) => chunksOf(f).map((c) => c.data.toString())));
});
afterAll(() => upstream.close());

/** Where a list of chunks cuts the text they make. */
const cuts = (chunks: string[]): Set<number> => {
  const out = new Set<number>();
  let at = 0;
  for (const c of chunks) out.add((at += c.length));
  return out;
};
/** Each exchange's response body chunks as the tape holds them. */
let tapeChunks: string[][] = [];

describe('arcp replay of HTTP channels (offline LLM)', () => {
  it('serves SSE back with identical bytes and chunk boundaries and the recorded pacing, and opens no outbound socket', async () => {
    const before = upstreamConnections;
    const r = await serveReplay({ tape: path, http: {}, pace: 'recorded' });
    const live = [await ask(r.addresses.http!, 'first question'), await ask(r.addresses.http!, 'second question')];
    const report = await r.done;
    expect(report.ok).toBe(true);
    expect(report.replayFingerprint).toBe(report.tapeFingerprint);
    for (let k = 0; k < 2; k++) {
      expect(live[k].status).toBe(200);
      expect(live[k].headers['content-type']).toBe('text/event-stream');
      // The bytes are identical, and cut where the tape's chunks are cut: what the client reads
      // may merge two chunks (TCP does, on a busy machine, when recording or replaying), never
      // split one. The tape's chunks are the upstream's writes.
      expect(live[k].chunks.map((c) => c.text).join('')).toBe(recorded[k].chunks.map((c) => c.text).join(''));
      const tapeCuts = cuts(tapeChunks[k]);
      for (const at of cuts(live[k].chunks.map((c) => c.text))) expect(tapeCuts.has(at), `a cut at ${at} is one of the tape's`).toBe(true);
      // Paced as recorded: the upstream slept 20 ms between its 6 writes, so the replay takes
      // about 100 ms (an unpaced one a few). The span, not each gap: a stalled read on a busy
      // machine shortens one gap and lengthens another.
      const span = live[k].chunks.at(-1)!.at - live[k].chunks[0].at;
      expect(span).toBeGreaterThan(60);
    }
    expect(upstreamConnections).toBe(before);
  });

  it('a changed prompt is a divergence naming the body path, answered 502, never forwarded', async () => {
    const before = upstreamConnections;
    const r = await serveReplay({ tape: path, http: {} });
    const live = await ask(r.addresses.http!, 'a different question');
    expect(live.status).toBe(502);
    const report = await r.stop();
    expect(report.ok).toBe(false);
    const [d] = report.divergences;
    expect(d.reason).toBe('unmatched-request');
    expect(d.message).toMatch(/no recorded exchange matches POST \/llm\/chat; closest is POST \/llm\/chat/);
    expect(d.closest!.fields).toEqual([{ pointer: '/messages/0/content', expected: 'first question', actual: 'a different question', rule: 'exact', tolerated: false }]);
    expect(upstreamConnections).toBe(before);
  });
});
