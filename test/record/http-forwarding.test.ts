import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { ToolError } from '../../src/errors.js';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { record, type Recording } from '../../src/record/recorder.js';
import { ResponseHead, TransportEvent } from '../../src/tape/format.js';
import { until } from '../helpers/runtime.js';
import { TapeReader } from '../../src/tape/reader.js';
import { readFrames, tapeDir } from '../helpers/tape.js';

// How one exchange is forwarded and recorded at its edges: the path the upstream gets, the
// recorder's own 404, informational heads, a status text, an upstream that fails mid-response.

const tape = tapeDir();

async function upstreamWith(handler: (req: IncomingMessage, res: import('node:http').ServerResponse) => void): Promise<{ url: string; paths: string[] }> {
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    paths.push(req.url!);
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onTestFinished(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, paths };
}

async function recorder(path: string, routes: { prefix: string; upstream: string }[]): Promise<{ rec: Recording; warnings: string[] }> {
  const warnings: string[] = [];
  const rec = await record({ tape: path, http: { routes }, onWarning: (l) => warnings.push(l) });
  onTestFinished(() => rec.stop().then(() => undefined, () => undefined));
  return { rec, warnings };
}

/** A request with Node's client: status, status text, body, or how it ended when cut. */
function fetchRaw(url: string, method = 'GET'): Promise<{ status: number; text: string; headers: IncomingMessage['headers']; body: string; cut?: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.once('end', () => resolve({ status: res.statusCode!, text: res.statusMessage!, headers: res.headers, body }));
      res.once('error', (e) => resolve({ status: res.statusCode!, text: res.statusMessage!, headers: res.headers, body, cut: (e as NodeJS.ErrnoException).code ?? e.message }));
    });
    req.once('error', reject);
    onTestFinished(() => void req.destroy());
    req.end();
  });
}

const heads = (path: string) => readFrames(path).filter((f) => f.kind === 'http.response').map((f) => ResponseHead.parse(JSON.parse(f.data.toString())));
const ends = (path: string) => readFrames(path).filter((f) => f.kind.startsWith('transport.')).map((f) => ({ kind: f.kind, ...TransportEvent.parse(JSON.parse(f.data.toString())) }));

describe('HTTP recorder: forwarding one exchange', () => {
  it('the upstream gets its own path with what follows the prefix; the prefix alone is its base path, or / without one', async () => {
    const up = await upstreamWith((_req, res) => res.end('ok'));
    const { rec } = await recorder(tape('paths.tape'), [
      { prefix: '/llm', upstream: `${up.url}/v1` },
      { prefix: '/bare', upstream: up.url },
      { prefix: '/', upstream: `${up.url}/root` },
    ]);
    for (const p of ['/llm/chat?x=1', '/llm', '/llm?q=2', '/bare', '/bare?z', '/bare/a/b', '/other/c']) expect((await fetchRaw(rec.addresses.http! + p)).body).toBe('ok');
    expect(up.paths).toEqual(['/v1/chat?x=1', '/v1', '/v1?q=2', '/', '/?z', '/a/b', '/root/other/c']);
  });

  it('a path no route takes gets the recorder’s 404, a one-line JSON error naming the routes, recorded as sent', async () => {
    const up = await upstreamWith((_req, res) => res.end('ok'));
    const path = tape('unrouted.tape');
    const { rec } = await recorder(path, [{ prefix: '/llm', upstream: up.url }, { prefix: '/tools', upstream: up.url }]);
    const got = await fetchRaw(`${rec.addresses.http!}/nowhere?x`, 'POST');
    const message = 'arcp record: no --http route for /nowhere?x (routes: /llm, /tools)';
    const body = JSON.stringify({ error: { type: 'arcp_record', message } });
    expect(got).toMatchObject({ status: 404, body });
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['content-length']).toBe(String(body.length));
    await rec.stop();
    expect(up.paths).toEqual([]);
    expect(heads(path)).toEqual([{ status: 404, headers: [['content-type', 'application/json'], ['content-length', String(body.length)]] }]);
    expect(ends(path)).toEqual([{ kind: 'transport.error', error: message }]);
    expect(readFrames(path).filter((f) => f.kind === 'http.response.body').map((f) => f.data.toString())).toEqual([body]);
  });

  it('informational heads (103) are not the response; the final head keeps its status text', async () => {
    const up = await upstreamWith((_req, res) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload' });
      res.writeHead(200, 'Fine Thanks', { 'content-type': 'text/plain' }).end('body');
    });
    const path = tape('hints.tape');
    const { rec } = await recorder(path, [{ prefix: '/', upstream: up.url }]);
    const got = await fetchRaw(`${rec.addresses.http!}/x`);
    expect(got).toMatchObject({ status: 200, text: 'Fine Thanks', body: 'body' });
    await rec.stop();
    expect(heads(path).map((h) => h.status)).toEqual([200]);
  });

  it('an upstream that fails mid-response: the client’s stream is cut after what arrived, the warning and the tape say reset', async () => {
    const up = await upstreamWith((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
      res.write('first part;');
      setImmediate(() => res.socket?.destroy());
    });
    const path = tape('mid.tape');
    const { rec, warnings } = await recorder(path, [{ prefix: '/', upstream: up.url }]);
    const got = await fetchRaw(`${rec.addresses.http!}/x`);
    expect(got.status).toBe(200);
    expect(got.body).toBe('first part;');
    expect(got.cut).toBeDefined();
    await until(() => rec.stats().active === 0, 5000, 'the exchange to end');
    await rec.stop();
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`^GET /x: upstream ${up.url} failed mid-response: `))]);
    expect(ends(path)).toEqual([expect.objectContaining({ kind: 'transport.error', client: 'reset', error: expect.stringMatching(/failed mid-response/) })]);
    expect(readFrames(path).filter((f) => f.kind === 'http.response.body').map((f) => f.data.toString()).join('')).toBe('first part;');
  });
  it('a request without a body goes upstream without one: no chunked framing is added to a GET, HEAD or empty POST', async () => {
    const framing: string[] = [];
    const up = await upstreamWith((req, res) => {
      framing.push(`${req.method} te=${req.headers['transfer-encoding'] ?? '-'} cl=${req.headers['content-length'] ?? '-'}`);
      req.resume();
      req.once('end', () => res.end('ok'));
    });
    const { rec } = await recorder(tape('framing.tape'), [{ prefix: '/', upstream: `${up.url}/v1//` }]);
    for (const method of ['GET', 'HEAD', 'DELETE']) await fetchRaw(`${rec.addresses.http!}/a`, method);
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(`${rec.addresses.http!}/a`, { method: 'POST', headers: { 'content-length': '0' } }, (res) => res.resume().once('end', resolve));
      req.once('error', reject);
      req.end();
    });
    expect(framing).toEqual(['GET te=- cl=-', 'HEAD te=- cl=-', 'DELETE te=- cl=-', 'POST te=- cl=0']);
    // The upstream's base path lost its trailing slashes, however many.
    expect(up.paths).toEqual(['/v1/a', '/v1/a', '/v1/a', '/v1/a']);
  });

  it('each exchange is a channel named for its request, with where it went; stats count them; after a stop the port is closed', async () => {
    const up = await upstreamWith((_req, res) => res.end('ok'));
    const path = tape('channels.tape');
    const { rec } = await recorder(path, [{ prefix: '/llm', upstream: `${up.url}/v1` }]);
    await fetchRaw(`${rec.addresses.http!}/llm/a?x=1`);
    await fetchRaw(`${rec.addresses.http!}/llm/b`, 'POST');
    const long = `/llm/${'x'.repeat(300)}`;
    await fetchRaw(`${rec.addresses.http!}${long}`);
    expect(rec.stats().exchanges).toBe(3);
    await rec.stop();
    await expect(fetchRaw(`${rec.addresses.http!}/llm/a`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const t = TapeReader.open(path);
    try {
      expect(t.channels().map((c) => [c.kind, c.label, c.info])).toEqual([
        ['http', 'GET /llm/a?x=1', { url: '/llm/a?x=1', upstream: `${up.url}/v1`, route: '/llm' }],
        ['http', 'POST /llm/b', { url: '/llm/b', upstream: `${up.url}/v1`, route: '/llm' }],
        // A label is at most 200 characters; the info keeps the whole URL.
        ['http', `GET ${long}`.slice(0, 200), { url: long, upstream: `${up.url}/v1`, route: '/llm' }],
      ]);
    } finally {
      t.close();
    }
  });

  it('no routes is a usage error', async () => {
    const e = await record({ tape: tape('none.tape'), http: { routes: [] } }).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(ToolError);
    expect((e as ToolError).message).toBe('no HTTP routes given');
    expect((e as ToolError).hint).toBe('pass --http PREFIX=URL');
  });

  it('a stop cuts an exchange still streaming: the client is reset, the tape says the recorder stopped, no warning blames the client', async () => {
    const up = await upstreamWith((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n'); // and nothing more: the stream stays open
    });
    const path = tape('stopped.tape');
    const { rec, warnings } = await recorder(path, [{ prefix: '/', upstream: up.url }]);
    let got = '';
    const ended = new Promise<string>((resolve) => {
      const req = httpRequest(`${rec.addresses.http!}/events`, (res) => {
        res.on('data', (d) => (got += d));
        res.once('error', () => resolve('cut'));
        res.once('end', () => resolve('end'));
      });
      req.once('error', () => resolve('cut'));
      onTestFinished(() => void req.destroy());
      req.end();
    });
    await until(() => got.length > 0, 5000, 'the first event');
    await rec.stop();
    expect(await ended).toBe('cut');
    expect(warnings).toEqual([]);
    expect(ends(path)).toEqual([{ kind: 'transport.error', error: 'recorder stopping', client: 'reset' }]);
  });

  it('a client that leaves mid-response with nobody listening for warnings: recorded as gone, nothing thrown', async () => {
    const up = await upstreamWith((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n');
    });
    const path = tape('gone-quiet.tape');
    const rec = await record({ tape: path, http: { routes: [{ prefix: '/', upstream: up.url }] } });
    onTestFinished(() => rec.stop().then(() => undefined, () => undefined));
    let got = '';
    const req = httpRequest(`${rec.addresses.http!}/events`, (res) => res.on('data', (d) => (got += d)));
    req.once('error', () => undefined);
    req.end();
    await until(() => got.length > 0, 5000, 'the first event');
    req.destroy();
    await until(() => rec.stats().active === 0, 5000, 'the exchange to end');
    await rec.stop();
    expect(ends(path)).toEqual([{ kind: 'transport.error', error: 'client went away', client: 'gone' }]);
  });
});
