import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { record } from '../../src/record/recorder.js';
import { TransportEvent } from '../../src/tape/format.js';
import { until } from '../helpers/runtime.js';
import { readFrames, tapeDir } from '../helpers/tape.js';

const tape = tapeDir();
let upstream: Server;
let base = '';
/** Requests the upstream saw end (whole or cut), so a test knows the upstream took part. */
let seen = 0;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    req.on('close', () => seen++);
    req.resume();
    // Answers slowly: the client leaves first.
    req.on('end', () => setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'), 300));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(() => upstream.close());

/** Sends `head` and `body` on a raw socket to the recorder, then cuts the connection after `ms`. */
async function sendAndLeave(url: string, head: string, body: string, ms: number): Promise<void> {
  const { port } = new URL(url);
  const s = connect(Number(port), '127.0.0.1');
  onTestFinished(() => void s.destroy());
  await new Promise<void>((r) => s.once('connect', r));
  s.write(head + body);
  await new Promise((r) => setTimeout(r, ms));
  s.destroy();
}

const ends = (path: string) => readFrames(path).filter((f) => f.kind.startsWith('transport.')).map((f) => ({ kind: f.kind, ...TransportEvent.parse(JSON.parse(f.data.toString())) }));

describe('arcp record: a client that leaves mid-exchange is named as the cause, not the upstream', () => {
  // Whether the upstream got the whole request before the client left (it is waited for then).
  for (const [what, head, body, upstreamGotIt] of [
    ['while its request body is still coming', 'POST /v1/chat HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n', '{"model":"m",', false],
    ['while the upstream is still answering', 'POST /v1/chat HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n', '{}', true],
  ] as const) {
    it(`${what}: the warning says the client went away, the tape says so too`, async () => {
      const warnings: string[] = [];
      const path = tape(`gone-${what.length}.tape`);
      const rec = await record({ tape: path, http: { routes: [{ prefix: '/', upstream: base }] }, onWarning: (l) => warnings.push(l) });
      onTestFinished(() => rec.stop().then(() => undefined));
      const before = seen;
      await sendAndLeave(rec.addresses.http!, head, body, 100);
      await until(() => rec.stats().active === 0 && (!upstreamGotIt || seen > before), 5000, 'the exchange to end');
      await rec.stop();
      expect(warnings.join('\n')).not.toMatch(/unreachable|failed mid-response/);
      expect(warnings).toEqual([expect.stringMatching(/^POST \/v1\/chat: the client closed its connection before the exchange was complete \(the upstream was not at fault\)/)]);
      expect(ends(path)).toEqual([expect.objectContaining({ kind: 'transport.error', client: 'gone', error: 'client went away' })]);
    });
  }
});
