import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { BIN, reap } from '../helpers/cli.js';
import { payloads, readFrames, tapeDir } from '../helpers/tape.js';

const TLS = join(import.meta.dirname, '../../fixtures/tls');
const tape = tapeDir();
let server: Server;
let upstream = '';

beforeAll(async () => {
  const tls = { cert: readFileSync(join(TLS, 'loopback.crt')), key: readFileSync(join(TLS, 'loopback.key')) };
  server = createServer(tls, (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  new WebSocketServer({ server }).on('connection', (s) => s.on('message', (d, binary) => s.send(d, { binary })));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  upstream = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

/** `arcp record` in front of the TLS upstream, as a user runs it; resolves with its addresses once listening. */
function recorder(path: string, env: NodeJS.ProcessEnv) {
  const args = ['record', '--upstream', `wss://${upstream}`, '--http', `/=https://${upstream}`, '--tape', path, '--json'];
  const child = reap(spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1', ...env } }));
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  const address = new Promise<{ ws: string; http: string }>((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(JSON.parse(String(d).split('\n')[0])));
    child.once('exit', () => reject(new Error(`recorder exited: ${stderr}`)));
  });
  return { address, stderr: () => stderr, stop: () => (child.kill('SIGINT'), exited) };
}

describe('arcp record in front of TLS upstreams (wss://, https://)', () => {
  it('records through TLS when the certificate is trusted (NODE_EXTRA_CA_CERTS)', async () => {
    const path = tape('wss.tape');
    const rec = recorder(path, { NODE_EXTRA_CA_CERTS: join(TLS, 'loopback.crt') });
    const { ws: wsUrl, http } = await rec.address;
    const res = await fetch(`${http}/v1/x`);
    expect([res.status, await res.text()]).toEqual([200, '{"ok":true}']);
    const ws = new WebSocket(wsUrl);
    await new Promise((r) => ws.once('open', r));
    const echoed = new Promise<string>((r) => ws.once('message', (d) => r(String(d))));
    ws.send('{"type":"session.ping","payload":{"nonce":"n1"}}');
    expect(await echoed).toBe('{"type":"session.ping","payload":{"nonce":"n1"}}');
    ws.close(1000);
    await new Promise((r) => ws.once('close', r));
    expect(await rec.stop()).toBe(0);
    const frames = readFrames(path);
    expect(payloads(frames, ['ws.text']).map(String)).toEqual(['{"type":"session.ping","payload":{"nonce":"n1"}}', '{"type":"session.ping","payload":{"nonce":"n1"}}']);
    expect(frames.find((f) => f.kind === 'ws.close')?.dir).toBe('c2s');
    expect(payloads(frames, ['http.response.body']).map(String)).toEqual(['{"ok":true}']);
  });

  it('an untrusted certificate gets the client a 502 and one line saying how to trust it', async () => {
    const rec = recorder(tape('untrusted.tape'), {});
    const { ws: wsUrl, http } = await rec.address;
    const ws = new WebSocket(wsUrl);
    const status = await new Promise<number | undefined>((r) => ws.once('unexpected-response', (_q, res) => r(res.statusCode)));
    expect(status).toBe(502);
    const res = await fetch(`${http}/v1/x`);
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/unreachable: .*CERT.*NODE_EXTRA_CA_CERTS/);
    await rec.stop();
    expect(rec.stderr()).toMatch(/upstream wss:\/\/127\.0\.0\.1:\d+\/ unreachable: .*certificate.*NODE_EXTRA_CA_CERTS/);
  });
});
