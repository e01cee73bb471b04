import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import NodeHttpAdapter from '@pollyjs/adapter-node-http';
import { Polly } from '@pollyjs/core';
import FSPersister from '@pollyjs/persister-fs';
import { fromTraffic } from '@mswjs/source/traffic';
import harValidator from 'har-validator';
import { setupServer } from 'msw/node';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { record } from '../../src/record/recorder.js';
import { serveReplay } from '../../src/replay/serve.js';
import { exportHar } from '../../src/tape/interchange/har.js';
import { importHar } from '../../src/tape/interchange/import-har.js';
import { arcp } from '../helpers/cli.js';
import { startLlmUpstream, type LlmUpstream } from '../helpers/llm-upstream.js';
import { tapeDir } from '../helpers/tape.js';

type Har = { log: { entries: { _id: string; _order: number; request: { url: string; headers: { name: string; value: string }[] }; response: { headers: { name: string; value: string }[]; content: { text: string; encoding?: string } } }[] } };

const tape = tapeDir();
let up: LlmUpstream;
let path = '';
let upstreamUrl = '';
const BODY = '{"model":"m","messages":[{"role":"user","content":"hi"}]}';

/** A plain node:http POST (what Polly's node adapter intercepts), the raw response bytes. */
const post = (url: string, headers: Record<string, string> = {}) =>
  new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
    // http.request looked up at call time: Polly's node adapter (nock) patches the module object.
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    req.end(BODY);
  });

beforeAll(async () => {
  up = await startLlmUpstream();
  upstreamUrl = up.url;
  path = tape('llm.tape');
  const rec = await record({ tape: path, http: { routes: [{ prefix: '/llm', upstream: `${up.url}/v1` }] } });
  await post(`${rec.addresses.http}/llm/chat/completions`); // identity
  await post(`${rec.addresses.http}/llm/chat/completions`, { 'accept-encoding': 'gzip' });
  await rec.stop();
  await up.close(); // everything below is offline: a request that got through would be refused
});

describe('HAR that other tools accept', () => {
  it('validates with har-validator; request.url and Host are the upstream\'s; bodies are decoded text', async () => {
    const har = exportHar(path) as Har;
    await harValidator.har(har); // rejects with the schema errors when invalid
    for (const e of har.log.entries) {
      expect(e.request.url).toBe(`${upstreamUrl}/v1/chat/completions`);
      expect(e.request.headers.find((h) => h.name.toLowerCase() === 'host')?.value).toBe(new URL(upstreamUrl).host);
      expect(JSON.parse(e.response.content.text).choices[0].message.content).toBe('Hello from the upstream');
    }
    expect(har.log.entries.map((e) => [e._order])).toEqual([[0], [1]]); // same request twice
  });

  it('loads in MSW (fromTraffic): fetch to the upstream gets the recorded answer', async () => {
    const har = exportHar(path) as Har;
    // MSW keeps content-encoding on a decoded body (its documented FIXME): drop it for that entry.
    const server = setupServer(...fromTraffic(har as never, (e) => ({ ...e, response: { ...e.response, headers: e.response.headers.filter((h) => h.name.toLowerCase() !== 'content-encoding') } })));
    server.listen({ onUnhandledRequest: 'error' });
    try {
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`${upstreamUrl}/v1/chat/completions`, { method: 'POST', body: BODY, headers: { 'content-type': 'application/json' } });
        expect(res.status).toBe(200);
        expect(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0].message.content).toBe('Hello from the upstream');
      }
    } finally {
      server.close();
    }
  });

  it("loads in Polly.js's HAR persister (replay mode, its node adapter): entries found by _id and _order", async () => {
    Polly.register(NodeHttpAdapter as never); // CJS default exports: their types see the module, not the class
    Polly.register(FSPersister as never);
    const recordingsDir = tape('polly');
    const polly = new Polly('arcp-har', { adapters: ['node-http'], persister: 'fs', persisterOptions: { fs: { recordingsDir } }, mode: 'replay', recordIfMissing: false, matchRequestsBy: { headers: false } });
    try {
      mkdirSync(join(recordingsDir, polly.recordingId), { recursive: true });
      writeFileSync(join(recordingsDir, polly.recordingId, 'recording.har'), JSON.stringify(exportHar(path, { polly: true })));
      const plain = await post(`${upstreamUrl}/v1/chat/completions`);
      expect(plain.status).toBe(200);
      expect(JSON.parse(plain.body.toString()).choices[0].message.content).toBe('Hello from the upstream');
      const gz = await post(`${upstreamUrl}/v1/chat/completions`, { 'accept-encoding': 'gzip' });
      expect(gz.headers['content-encoding']).toBe('gzip');
      expect(JSON.parse(zlib.gunzipSync(gz.body).toString()).choices[0].message.content).toBe('Hello from the upstream');
    } finally {
      await polly.stop();
    }
  });

  it('tape import --har: our export and a browser-style HAR (decoded body, content-encoding kept) become tapes that replay', async () => {
    const harFile = tape('out.har');
    writeFileSync(harFile, JSON.stringify(exportHar(path)));
    const back = tape('back.tape');
    const s = await importHar({ source: harFile, tape: back });
    expect(s.entries).toBe(2);
    const r = await serveReplay({ tape: back, http: {} });
    for (let i = 0; i < 2; i++) {
      const res = await request(`${r.addresses.http}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'accept-encoding': 'gzip' }, body: BODY });
      expect(res.headers['content-encoding']).toBeUndefined(); // the stored body is the decoded one
      expect(((await res.body.json()) as { choices: { message: { content: string } }[] }).choices[0].message.content).toBe('Hello from the upstream');
    }
    expect((await r.done).ok).toBe(true);

    const browser = tape('browser.har');
    const text = '{"ok":true,"api_key_echo":"none"}';
    writeFileSync(browser, JSON.stringify({ log: { version: '1.2', creator: { name: 'WebInspector', version: '537.36' }, entries: [{ startedDateTime: '2026-11-30T10:00:00.000Z', time: 42, request: { method: 'GET', url: 'https://api.example.com/v1/models?key=AIzaSyA-0123456789abcdefghijklmnopqrstu', httpVersion: 'HTTP/2', headers: [{ name: 'authorization', value: 'Bearer sk-live-abcdef0123456789' }], queryString: [], cookies: [], headersSize: -1, bodySize: 0 }, response: { status: 200, statusText: '', httpVersion: 'HTTP/2', headers: [{ name: 'content-type', value: 'application/json' }, { name: 'content-encoding', value: 'br' }, { name: 'content-length', value: '29' }], cookies: [], content: { size: text.length, mimeType: 'application/json', text }, redirectURL: '', headersSize: -1, bodySize: 29 }, cache: {}, timings: { send: 1, wait: 30, receive: 11 } }] } }));
    const imported = tape('browser.tape');
    const cli = await arcp(['tape', 'import', '--har', browser, '--tape', imported]);
    expect(cli.exitCode, cli.stderr).toBe(0);
    expect((await arcp(['tape', 'scan', imported])).exitCode).toBe(0); // the key and the bearer token were redacted on import
    const r2 = await serveReplay({ tape: imported, http: {} });
    const res = await request(`${r2.addresses.http}/v1/models?key=AIzaSyA-other`);
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers['content-length']).toBe(String(text.length));
    expect(await res.body.text()).toBe(text);
    expect((await r2.done).ok).toBe(true);
  });

  it('tape export -o refuses an existing file without --force; tape import --har names a bad file', async () => {
    const out = tape('exists.har');
    writeFileSync(out, 'keep me');
    const refused = await arcp(['tape', 'export', path, '--har', '-o', out]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr.trim()).toBe(`arcp: ${out} already exists (pass --force to replace it, or another -o path)`);
    expect((await arcp(['tape', 'export', path, '--har', '-o', out, '--force'])).exitCode).toBe(0);
    const bad = tape('bad.har');
    writeFileSync(bad, '{"log":{"entries":[{"request":{}}]}}');
    const r = await arcp(['tape', 'import', '--har', bad, '--tape', tape('bad.tape')]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toMatch(/^arcp: bad\.har is not a HAR log: log\.entries\.0\.startedDateTime: .*\(expected HAR 1\.2/);
  });
});
