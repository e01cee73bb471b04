import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportJsonl } from '../../src/tape/interchange/export-jsonl.js';
import { importJsonl } from '../../src/tape/interchange/import-jsonl.js';
import { defaultRules } from '../../src/tape/redact.js';
import { scanTape } from '../../src/tape/scan.js';
import { TapeWriter } from '../../src/tape/writer.js';
import { verifyTape } from '../../src/tape/verify.js';
import { CAPTURES_DIR, captureFiles, readCapture } from '../helpers/captures.js';
import { readFrames, tapeDir } from '../helpers/tape.js';

const tape = tapeDir();

describe('tape import / export of the peer captures', () => {
  it.each(captureFiles())('%s imports frame for frame, verifies, and round-trips through export', async (file) => {
    const lines = readCapture(file);
    const path = tape(file.replace('.jsonl', '.tape'));
    const s = await importJsonl({ source: join(CAPTURES_DIR, file), tape: path, redaction: defaultRules({}, false) });
    expect(s.frames).toBe(lines.length);
    expect(verifyTape(path)).toMatchObject({ ok: true, unsealed: false, fingerprint: s.fingerprint });
    const frames = readFrames(path);
    lines.forEach((l, i) => {
      if (l.raw !== undefined) expect(frames[i].data.toString()).toBe(l.raw);
      expect(frames[i].dir).toBe(l.dir);
      expect(frames[i].wall_ms).toBe(Date.parse(l.ts));
    });
    const exported = [...exportJsonl(path)].map((l) => JSON.parse(l));
    exported.forEach((e, i) => {
      const { channel: _c, kind: _k, channel_id: _id, ...rest } = e;
      if (e.dir === 'meta') delete rest.raw; // exports carry an event's exact bytes too
      expect(rest).toEqual({ ...lines[i], mono_ms: rest.mono_ms, scenario: lines[i].scenario });
      expect(rest.mono_ms).toBeCloseTo(lines[i].mono_ms - lines[0].mono_ms, 3);
    });
    const back = join(tape(''), `${file}.again.jsonl`);
    writeFileSync(back, exported.map((e) => JSON.stringify(e)).join('\n'));
    const again = await importJsonl({ source: back, tape: tape(file + '.again.tape'), redaction: defaultRules({}, false) });
    expect(again.fingerprint).toBe(s.fingerprint);
  });

  it('a recorded tape re-imports to its fingerprint: bare transport events, odd meta bytes, channels out of order, an empty channel', async () => {
    const path = tape('shapes.tape');
    const w = await TapeWriter.create({ path, commandLine: ['test'], redaction: defaultRules() });
    const a = w.channel('ws', 'ws#1 /');
    const b = w.channel('ws', 'ws#2 /');
    w.channel('ws', 'ws#3 / (refused before it was written)');
    const d = w.channel('http', 'POST /v1');
    w.event(b, 'meta', 'transport.open', {}); // the second connection's upstream answered first
    w.event(a, 'meta', 'transport.open', {});
    w.frame(a, 'c2s', 'ws.text', '{"arcp":"1.1","type":"session.hello"}');
    w.frame(a, 'meta', 'transport.error', 'not json at all');
    w.event(b, 'meta', 'transport.error', { dir: 'c2s', i: 7, raw: 'x', error: 'a detail naming line fields' });
    w.frame(b, 's2c', 'ws.binary', Buffer.from([0, 255, 1]));
    w.event(d, 'c2s', 'http.request', { method: 'POST', path: '/v1', headers: [] });
    w.event(a, 'c2s', 'ws.close', { code: 1005, reason: '' });
    w.event(a, 'meta', 'transport.close', { code: 1005, reason: '' });
    const s = await w.close();
    const jsonl = join(tape(''), 'shapes.jsonl');
    writeFileSync(jsonl, [...exportJsonl(path)].join('\n'));
    const again = await importJsonl({ source: jsonl, tape: tape('shapes.again.tape'), redaction: defaultRules() });
    expect(again.fingerprint).toBe(s.fingerprint);
    expect(verifyTape(tape('shapes.again.tape'))).toMatchObject({ ok: true, fingerprint: s.fingerprint });
    expect(readFrames(tape('shapes.again.tape')).map((f) => f.data.toString('latin1'))).toEqual(readFrames(path).map((f) => f.data.toString('latin1')));
  });

  it('redacts on import by default, and scan finds what --no-redact left', async () => {
    const src = join(CAPTURES_DIR, 'credentials.jsonl');
    const clear = tape('cred-clear.tape');
    await importJsonl({ source: src, tape: clear, redaction: defaultRules({}, false) });
    const rules = scanTape(clear).findings.map((f) => f.rule);
    expect(rules).toContain('/payload/auth/token');
    expect(rules).toContain('/payload/credentials/*/value');
    const safe = tape('cred-safe.tape');
    await importJsonl({ source: src, tape: safe });
    expect(scanTape(safe).findings).toEqual([]);
  });

  it('names the bad line of a malformed capture', async () => {
    const bad = join(tape(''), 'bad.jsonl');
    writeFileSync(bad, '{"i":0,"ts":"2026-01-01T00:00:00Z","mono_ms":1,"scenario":"x","conn":"A","dir":"c2s","raw":"{}"}\n{"i":1,"dir":"sideways"}\n');
    await expect(importJsonl({ source: bad, tape: tape('bad.tape') })).rejects.toThrow(/bad\.jsonl line 2 is not a capture line/);
  });
});

describe('tape export / import of HTTP rows holding several chunks', () => {
  it('keeps every chunk boundary and time, and re-imports to the same fingerprint, even across writer batches', async () => {
    const { TapeWriter } = await import('../../src/tape/writer.js');
    const { chunksOf } = await import('../../src/tape/format.js');
    const path = tape('parts.tape');
    const w = await TapeWriter.create({ path, commandLine: ['test'], redaction: defaultRules() });
    const ch = w.channel('http', 'GET /sse');
    w.event(ch, 'c2s', 'http.request', { method: 'GET', path: '/sse', headers: [] });
    w.event(ch, 's2c', 'http.response', { status: 200, headers: [['content-type', 'text/event-stream']] });
    // Big enough that the import below spans several 8 MiB writer batches within one row.
    const big = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 200; i++) w.frame(ch, 's2c', 'http.response.body', `data: {"i":${i},"pad":"${big}"}\n\n`);
    const s = await w.close();
    const rows = readFrames(path).filter((f) => f.kind === 'http.response.body');
    const chunks = rows.flatMap((f) => chunksOf(f));
    expect(chunks).toHaveLength(200);
    expect(rows.length).toBeLessThan(200);
    expect(rows.some((f) => f.parts && f.parts.length > 1)).toBe(true);
    expect(verifyTape(path)).toMatchObject({ ok: true, fingerprint: s.fingerprint });

    const out = join(tape(''), 'parts.jsonl');
    writeFileSync(out, [...exportJsonl(path)].join('\n'));
    const again = await importJsonl({ source: out, tape: tape('parts-again.tape') });
    expect(again.fingerprint).toBe(s.fingerprint);
    const back = readFrames(tape('parts-again.tape')).filter((f) => f.kind === 'http.response.body').flatMap((f) => chunksOf(f));
    // Import re-bases times to the first line; sizes and the gaps between chunks are what must survive.
    const shape = (cs: typeof chunks) => cs.map((c, i) => [c.data.length, i ? c.mono_us - cs[i - 1].mono_us : 0]);
    expect(shape(back)).toEqual(shape(chunks));
  });
});
