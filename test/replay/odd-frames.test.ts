import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { record } from '../../src/record/recorder.js';
import { diffTapes } from '../../src/replay/diff.js';
import { driveReplay } from '../../src/replay/driver.js';
import { serveReplay } from '../../src/replay/serve.js';
import { exportJsonl } from '../../src/tape/interchange/export-jsonl.js';
import { arcp } from '../helpers/cli.js';
import { tapeDir } from '../helpers/tape.js';

const tape = tapeDir();
const DEEP = 100_000;
const MiB = 1024 * 1024;

/** Every kind of frame a stranger may send that is not a well-formed ARCP message. */
const ODD: { name: string; data: Buffer; binary: boolean }[] = [
  { name: 'binary', data: Buffer.from([0, 1, 2, 255]), binary: true },
  { name: 'invalid UTF-8 text', data: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), binary: false },
  { name: 'empty', data: Buffer.alloc(0), binary: false },
  { name: 'not JSON', data: Buffer.from('hello, runtime'), binary: false },
  { name: 'a JSON array', data: Buffer.from('[1,2,{"type":"session.hello"}]'), binary: false },
  { name: '100k-deep object', data: Buffer.from('{"a":'.repeat(DEEP) + '1' + '}'.repeat(DEEP)), binary: false },
  { name: '100k-deep array', data: Buffer.from('['.repeat(DEEP) + ']'.repeat(DEEP)), binary: false },
  { name: '10 MB string field', data: Buffer.from(`{"type":"x-vendor.t.big","payload":{"s":"${'s'.repeat(10_000_000)}"}}`), binary: false },
  { name: '16 MiB text', data: Buffer.alloc(16 * MiB, 'x'), binary: false },
  { name: '16 MiB binary', data: Buffer.alloc(16 * MiB, 7), binary: true },
];

/** A runtime of another implementation: echoes every message back as it came (same bytes, same opcode). */
let upstream: WebSocketServer;
let upstreamUrl = '';
beforeAll(async () => {
  upstream = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 64 * MiB, skipUTF8Validation: true });
  await new Promise((r) => upstream.once('listening', r));
  upstream.on('connection', (ws) => ws.on('message', (d, binary) => ws.send(d as Buffer, { binary })));
  upstreamUrl = `ws://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => upstream.close(() => r())));

/** Sends each odd frame and waits for its echo; returns what came back. */
async function oddClient(url: string): Promise<{ data: Buffer; binary: boolean }[]> {
  const ws = new WebSocket(url, { maxPayload: 64 * MiB, skipUTF8Validation: true });
  await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
  const got: { data: Buffer; binary: boolean }[] = [];
  for (const f of ODD) {
    const echoed = new Promise<void>((r) => ws.once('message', (d, binary) => (got.push({ data: d as Buffer, binary }), r())));
    ws.send(f.data, { binary: f.binary });
    await echoed;
  }
  ws.close(1000, 'done');
  await new Promise((r) => ws.once('close', r));
  return got;
}

describe('a tape holding every odd frame replays both ways, diffs and exports, byte for byte', () => {
  let path = '';
  it('records them as sent', async () => {
    path = tape('odd.tape');
    const rec = await record({ tape: path, ws: { upstream: upstreamUrl } });
    const got = await oddClient(rec.addresses.ws!);
    await rec.stop();
    expect(got.map((g) => g.data.equals(ODD[got.indexOf(g)].data))).toEqual(ODD.map(() => true));
  });

  it('as the runtime: the same client gets every frame back, byte for byte', async () => {
    const served = await serveReplay({ tape: path, listen: {}, timeoutMs: 10_000 });
    const got = await oddClient(served.addresses.ws!);
    const report = await served.done;
    expect(report.divergences).toEqual([]);
    expect(report.replayFingerprint).toBe(report.tapeFingerprint);
    got.forEach((g, i) => {
      expect(g.data.equals(ODD[i].data), ODD[i].name).toBe(true);
      expect(g.binary, ODD[i].name).toBe(ODD[i].binary);
    });
  });

  it('as the client: the live runtime gets every frame, and its answers match', async () => {
    const r = await driveReplay({ tape: path, target: upstreamUrl, timeoutMs: 10_000 });
    expect(r.divergences).toEqual([]);
  });

  it('diff against itself, JSONL export (library and CLI) and tape show: no crash, every line parses', async () => {
    expect(diffTapes(path, path).divergences).toEqual([]);
    let lines = 0;
    for (const line of exportJsonl(path)) {
      JSON.parse(line);
      lines++;
    }
    expect(lines).toBeGreaterThan(ODD.length * 2);
    const exported = await arcp(['tape', 'export', path, '--jsonl', '-o', tape('odd.jsonl')]);
    expect(exported.exitCode, exported.stderr).toBe(0);
    const shown = await arcp(['tape', 'show', path]);
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/binary 4 B/);
  });

  it('a divergence on a deep frame is reported, not a crash', async () => {
    const served = await serveReplay({ tape: path, listen: {}, timeoutMs: 3000 });
    const ws = new WebSocket(served.addresses.ws!, { maxPayload: 64 * MiB, skipUTF8Validation: true });
    await new Promise((r) => ws.once('open', r));
    for (const f of ODD.slice(0, 5)) ws.send(f.data, { binary: f.binary });
    ws.send('{"a":'.repeat(DEEP) + '2' + '}'.repeat(DEEP));
    const report = await served.done;
    ws.terminate();
    expect(report.divergences[0]).toMatchObject({ reason: 'mismatch' });
    expect(report.divergences[0].fields[0].pointer.split('/').length).toBe(DEEP + 1);
    JSON.stringify(report);
  });
});
