import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { chunksOf, flagNames } from '../../src/tape/format.js';
import { defaultRules } from '../../src/tape/redact.js';
import { TapeReader } from '../../src/tape/reader.js';
import { TapeWriter } from '../../src/tape/writer.js';
import { readFrames, tapeDir } from '../helpers/tape.js';

const path = tapeDir();

async function write(name: string, fill: (w: TapeWriter) => void) {
  const w = await TapeWriter.create({ path: path(name), commandLine: ['test'], redaction: defaultRules() });
  fill(w);
  const summary = await w.close();
  return { summary, frames: readFrames(path(name)) };
}

describe('tape writer: bytes seen before', () => {
  it('a repeated head still sets how each exchange reads its body, and repeated secrets stay redacted', async () => {
    const sseHead = { status: 200, headers: [['content-type', 'text/event-stream']] };
    const event = 'data: {"delta":"hi","token":"tk-123"}\n\n';
    const { frames } = await write('heads.tape', (w) => {
      for (let i = 0; i < 3; i++) {
        const ch = w.channel('http', `GET /sse ${i}`);
        w.event(ch, 'c2s', 'http.request', { method: 'GET', path: '/sse', headers: [['authorization', 'Bearer sk-live']] });
        w.event(ch, 's2c', 'http.response', sseHead);
        w.frame(ch, 's2c', 'http.response.body', event);
        w.frame(ch, 's2c', 'http.response.body', 'data: [DONE]\n\n');
        w.event(ch, 'meta', 'transport.close', {}); // the exchange ends: its modes are forgotten
      }
    });
    const bodies = frames.filter((f) => f.kind === 'http.response.body');
    expect(bodies).toHaveLength(3);
    for (const b of bodies) {
      expect(flagNames(b.flags)).toContain('sse');
      expect(chunksOf(b).map((c) => c.data.toString())).toEqual([event, 'data: [DONE]\n\n']);
    }
    const requests = frames.filter((f) => f.kind === 'http.request');
    // "token" here is not at a redacted pointer: each body is kept as sent, none wrongly redacted.
    for (const b of bodies) {
      expect(b.data.toString()).not.toContain('[arcp-redacted:');
      expect(flagNames(b.flags)).not.toContain('redacted');
    }
    for (const r of requests) {
      expect(r.data.toString()).not.toContain('sk-live');
      expect(flagNames(r.flags)).toContain('redacted');
    }
    expect(new Set(requests.map((r) => r.hash)).size).toBe(1);
  });

  it('the same bytes as another kind are checked as that kind; a repeated hello is redacted every time', async () => {
    const hello = '{"type":"session.hello","payload":{"auth":{"scheme":"bearer","token":"s3cr3t"}}}';
    const { frames, summary } = await write('kinds.tape', (w) => {
      const ch = w.channel('ws', 'ws#1');
      w.frame(ch, 's2c', 'ws.text', '{"a":1}');
      w.frame(ch, 's2c', 'ws.binary', Buffer.from('{"a":1}'));
      w.frame(ch, 's2c', 'ws.text', '{"a":1}');
      w.frame(ch, 'c2s', 'ws.text', hello);
      w.frame(ch, 'c2s', 'ws.text', hello);
      w.frame(ch, 'c2s', 'ws.text', 'not json');
      w.frame(ch, 'c2s', 'ws.text', 'not json');
    });
    expect(frames.map((f) => flagNames(f.flags).join('+'))).toEqual(['', 'binary', '', 'redacted', 'redacted', 'notJson', 'notJson']);
    expect(frames[3].data.toString()).toBe(frames[4].data.toString());
    expect(frames[3].data.toString()).toContain('[arcp-redacted:1]');
    expect(new Set(frames.slice(0, 3).map((f) => f.hash)).size).toBe(1);
    expect(summary.blobs).toBe(3);
  });

  it('an identical body is read in the mode of its own exchange, and a body holding a secret is redacted each time', async () => {
    const body = '{"payload":{"auth":{"token":"tk-9"}},"n":1}';
    const { frames } = await write('bodies.tape', (w) => {
      for (const type of ['application/json', 'application/octet-stream', 'application/json']) {
        const ch = w.channel('http', 'POST /x');
        w.event(ch, 's2c', 'http.response', { status: 200, headers: [['content-type', type]] });
        w.frame(ch, 's2c', 'http.response.body', body);
      }
    });
    const bodies = frames.filter((f) => f.kind === 'http.response.body').map((f) => [f.data.toString().includes('tk-9'), flagNames(f.flags).join('+')]);
    expect(bodies).toEqual([
      [false, 'redacted'],
      [true, ''],
      [false, 'redacted'],
    ]);
  });
});

describe('tape writer: secrets in SSE bodies', () => {
  it('a token whose key is written with \\u escapes in an SSE data line is redacted on the tape', async () => {
    const event = 'data: {"payload":{"auth":{"\\u0074oken":"s3cr3t-sse"}}}\n\n';
    const { frames } = await write('sse-escaped.tape', (w) => {
      const ch = w.channel('http', 'GET /sse');
      w.event(ch, 's2c', 'http.response', { status: 200, headers: [['content-type', 'text/event-stream']] });
      w.frame(ch, 's2c', 'http.response.body', event);
    });
    const body = frames.find((f) => f.kind === 'http.response.body')!;
    expect(body.data.toString()).not.toContain('s3cr3t-sse');
    expect(body.data.toString()).toContain('[arcp-redacted:1]');
    expect(flagNames(body.flags)).toEqual(['redacted', 'sse']);
  });
});

describe('tape writer: channels and repeated bytes', () => {
  it('registers channels in line with their frames: kind, label, info kept; headers in the info redacted', async () => {
    const p = path('channels.tape');
    const w = await TapeWriter.create({ path: p, commandLine: ['test'], redaction: defaultRules() });
    const ws = w.channel('ws', 'ws#1 /arcp?naïve=ü', { url: '/arcp?naïve=ü', headers: [['authorization', 'Bearer sekrit-9'], ['x-trace', 't1']], subprotocols: ['arcp.v1'] });
    w.frame(ws, 'c2s', 'ws.text', '{"a":1}');
    w.flush(); // the next channel goes in a later batch
    const http = w.channel('http', 'GET /headers-free', { url: '/headers-free', upstream: 'http://127.0.0.1:1', route: '/' });
    w.event(http, 'meta', 'transport.close', {});
    const stdio = w.channel('stdio', 'node agent.js');
    await w.close();
    const t = TapeReader.open(p);
    try {
      const rows = t.channels();
      expect(rows.map((c) => [c.id, c.kind, c.label])).toEqual([
        [ws, 'ws', 'ws#1 /arcp?naïve=ü'],
        [http, 'http', 'GET /headers-free'],
        [stdio, 'stdio', 'node agent.js'],
      ]);
      expect(rows[0].info.headers).toEqual([['authorization', '[arcp-redacted:1]'], ['x-trace', 't1']]);
      expect(rows[0].info.subprotocols).toEqual(['arcp.v1']);
      expect(rows[1].info).toEqual({ url: '/headers-free', upstream: 'http://127.0.0.1:1', route: '/' });
      expect(rows[2].info).toEqual({});
    } finally {
      t.close();
    }
  });

  it('bytes equal to the last frame of their kind share its blob; equal length, other bytes do not', async () => {
    const { frames, summary } = await write('repeats.tape', (w) => {
      const ch = w.channel('ws', 'ws#1');
      for (const s of ['{"n":1}', '{"n":1}', '{"n":2}', '{"n":1}']) w.frame(ch, 's2c', 'ws.text', s);
      w.frame(ch, 's2c', 'ws.binary', Buffer.from('{"n":2}')); // same bytes, other kind
    });
    expect(frames.map((f) => f.data.toString())).toEqual(['{"n":1}', '{"n":1}', '{"n":2}', '{"n":1}', '{"n":2}']);
    for (const f of frames) expect(f.hash).toBe(createHash('sha256').update(f.data).digest('hex'));
    expect(summary.blobs).toBe(2);
  });
});
