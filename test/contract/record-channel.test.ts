import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import type { RecordChannel } from '../../src/record/channel.js';
import { startHttpProxy } from '../../src/record/http-proxy.js';
import { wrapStdio } from '../../src/record/stdio-wrap.js';
import { startWsProxy } from '../../src/record/ws-proxy.js';
import { sha256hex } from '../../src/tape/fingerprint.js';
import { FLAG } from '../../src/tape/format.js';
import type { TapeFrame } from '../../src/tape/reader.js';
import { defaultRules } from '../../src/tape/redact.js';
import { verifyTape } from '../../src/tape/verify.js';
import { TapeWriter } from '../../src/tape/writer.js';
import { payloads, readFrames, tapeDir } from '../helpers/tape.js';

/** Each record channel, driven by a client through it to an echoing upstream. */
interface Rig {
  channel: RecordChannel;
  /** Sends one message and resolves with what came back. */
  roundTrip(msg: Buffer): Promise<Buffer>;
  /** What the upstream received, in order. */
  upstreamGot: Buffer[];
  stop(): Promise<void>;
  /** The messages in the tape, each way, reassembled as the rig's client sees them. */
  messages(frames: TapeFrame[]): { sent: Buffer[]; got: Buffer[] };
}

const RIGS: Record<string, (w: TapeWriter) => Promise<Rig>> = {
  async ws(w) {
    const upstreamGot: Buffer[] = [];
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, skipUTF8Validation: true });
    await new Promise((r) => wss.once('listening', r));
    wss.on('connection', (s) => s.on('message', (d, bin) => (upstreamGot.push(d as Buffer), s.send(d as Buffer, { binary: bin }))));
    const channel = await startWsProxy(w, { upstream: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}` });
    const client = new WebSocket(channel.address);
    await new Promise((r) => client.once('open', r));
    const replies: ((b: Buffer) => void)[] = [];
    client.on('message', (d) => replies.shift()!(d as Buffer));
    return {
      channel,
      upstreamGot,
      messages: byDir('ws.text'),
      roundTrip: (m) => new Promise((r) => (replies.push(r), client.send(m, { binary: false }))),
      stop: async () => {
        client.close(1000);
        await new Promise((r) => client.once('close', r));
        await channel.close();
        wss.close();
      },
    };
  },
  async stdio(w) {
    const input = new PassThrough();
    const output = new PassThrough();
    // The child keeps a copy of what reached its stdin: the rig reads what the child got, not what it sent.
    const got = tape('stdio-child-stdin');
    writeFileSync(got, '');
    const echo = "const fs = require('node:fs'); process.stdin.on('data', (d) => { fs.appendFileSync(process.argv[1], d); process.stdout.write(d); })";
    const channel = await wrapStdio(w, { command: [process.execPath, '-e', echo, got], input, output });
    const lines: Buffer[] = [];
    let carry = Buffer.alloc(0);
    const waiters: (() => void)[] = [];
    output.on('data', (d: Buffer) => {
      carry = Buffer.concat([carry, d]);
      let nl;
      while ((nl = carry.indexOf(10)) >= 0) {
        lines.push(carry.subarray(0, nl));
        carry = carry.subarray(nl + 1);
        waiters.shift()?.();
      }
    });
    return {
      channel,
      get upstreamGot() {
        const lines = readFileSync(got).toString('latin1').split('\n').slice(0, -1);
        return lines.map((l) => Buffer.from(l, 'latin1'));
      },
      messages: byDir('stdio.line'),
      roundTrip: (m) =>
        new Promise((r) => {
          const n = lines.length;
          waiters.push(() => r(lines[n]));
          input.write(Buffer.concat([m, Buffer.from('\n')]));
        }),
      stop: async () => {
        input.end();
        await channel.done;
      },
    };
  },
  async http(w) {
    const upstreamGot: Buffer[] = [];
    const up = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      upstreamGot.push(body);
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((r) => up.listen(0, '127.0.0.1', r));
    const channel = await startHttpProxy(w, { routes: [{ prefix: '/api', upstream: `http://127.0.0.1:${(up.address() as AddressInfo).port}/v1` }] });
    return {
      channel,
      upstreamGot,
      // One exchange a channel; a body may arrive in several chunks, recorded as they came.
      messages: (frames) => {
        const bodies = (kind: string) => {
          const by = new Map<number, Buffer[]>();
          for (const f of frames) if (f.kind === kind) by.set(f.channel, [...(by.get(f.channel) ?? []), f.data]);
          return [...by.values()].map((parts) => Buffer.concat(parts));
        };
        return { sent: bodies('http.request.body'), got: bodies('http.response.body') };
      },
      roundTrip: async (m) => {
        const r = await request(`${channel.address}/api/echo`, { method: 'POST', body: m, headers: { 'content-type': 'application/json' } });
        return Buffer.from(await r.body.arrayBuffer());
      },
      stop: async () => {
        await channel.close();
        up.close();
      },
    };
  },
};

const tape = tapeDir();
const byDir = (kind: string) => (frames: TapeFrame[]) => ({ sent: payloads(frames, [kind], 'c2s'), got: payloads(frames, [kind], 's2c') });
/** Compared by length and hash, so a failure does not print 70 kB. */
const short = (b: Buffer) => `${b.length}:${sha256hex(b).slice(0, 16)}`;

describe.each(Object.keys(RIGS))('record channel contract: %s', (mode) => {
  it('forwards exact bytes both ways, records every message once in order, and the tape verifies', async () => {
    const path = tape(`${mode}.tape`);
    const w = await TapeWriter.create({ path, commandLine: ['test'], redaction: defaultRules() });
    const rig = await RIGS[mode](w);
    const msgs = [
      '{"arcp":"1.1","id":"m1","type":"session.ping","payload":{"nonce":"n1"}}',
      '{"unicode":"héllo ✓ 🚀","spaces" :  [1, 2.50, 3e2]}',
      '{not json at all',
      '  {"leading":"whitespace"}  ',
      'x'.repeat(70_000),
    ].map((s) => Buffer.from(s));
    for (const m of msgs) expect(short(await rig.roundTrip(m))).toBe(short(m));
    expect(rig.upstreamGot.map(short)).toEqual(msgs.map(short));
    await rig.stop();
    const summary = await w.close();
    const frames = readFrames(path);
    const { sent, got } = rig.messages(frames);
    expect(sent.map(short)).toEqual(msgs.map(short));
    expect(got.map(short)).toEqual(msgs.map(short));
    // Message channels flag a frame that is not JSON; HTTP bodies arrive in arbitrary chunks, so they are not judged.
    if (mode !== 'http') expect(frames.find((f) => f.data.toString() === '{not json at all')!.flags & FLAG.notJson).toBe(FLAG.notJson);
    const v = verifyTape(path);
    expect(v).toMatchObject({ ok: true, unsealed: false, fingerprint: summary.fingerprint });
    expect(rig.channel.active).toBe(0);
  });
});
