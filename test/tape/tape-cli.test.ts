import { copyFileSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { request } from 'undici';
import { beforeAll, describe, expect, it } from 'vitest';
import { record } from '../../src/record/recorder.js';
import { CAPTURES_DIR } from '../helpers/captures.js';
import { tapeDir } from '../helpers/tape.js';
import { arcp } from '../helpers/cli.js';

const tape = tapeDir();
const dir = () => join(tape('x'), '..');

let cancel = '';
let http = '';
beforeAll(async () => {
  cancel = tape('cancel.tape');
  const r = await arcp(['tape', 'import', join(CAPTURES_DIR, 'cancel.jsonl'), '--tape', cancel]);
  expect(r.exitCode, r.stderr).toBe(0);
  const up = createServer((_q, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let i = 0;
    const t = setInterval(() => (i < 5 ? res.write(`data: {"n":${i++}}\n\n`) : (clearInterval(t), res.end())), 2);
  });
  await new Promise<void>((r) => up.listen(0, '127.0.0.1', r));
  http = tape('http.tape');
  const rec = await record({ tape: http, http: { routes: [{ prefix: '/', upstream: `http://127.0.0.1:${(up.address() as AddressInfo).port}` }] } });
  const res = await request(`${rec.addresses.http}/v1/stream?x=1`, { method: 'POST', body: '{"q":1}', headers: { 'content-type': 'application/json' } });
  await res.body.text();
  await rec.stop();
  up.close();
});

describe('arcp tape (CLI)', () => {
  it.each(['ls', 'show', 'verify', 'scan', 'export', 'import'])('tape %s --help shows examples and exit codes', async (cmd) => {
    const r = await arcp(['tape', cmd, '--help']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/EXAMPLES/);
    expect(r.stdout).toMatch(/Exit codes/);
  });

  it('show prints channels and a timeline; --json is NDJSON', async () => {
    const r = await arcp(['tape', 'show', cancel]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/→ job\.cancel/);
    expect(r.stdout).toMatch(/← job\.event metric #3/);
    expect(r.stdout).toMatch(/session\.hello .*\[redacted\]/);
    const j = await arcp(['tape', 'show', http, '--json']);
    const rows = j.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows[0].channels[0]).toMatchObject({ kind: 'http' });
    const whats: string[] = rows.slice(1).map((x: { what: string }) => x.what);
    expect(whats.slice(0, 3)).toEqual(['POST /v1/stream?x=1', 'body 7 B', '200']);
    expect(whats.at(-1)).toBe('close');
    // The five SSE chunks, in rows of one or more (chunks flushed together share a row).
    const events = whats.slice(3, -1).map((w) => Number(/^sse message(?: ×(\d+))?$/.exec(w)![1] ?? 1));
    expect(events.reduce((a, b) => a + b, 0)).toBe(5);
  });

  it('verify, scan and ls report and exit 0 on a good tape', async () => {
    expect((await arcp(['tape', 'verify', cancel])).stdout).toMatch(/^ok .*15 frames/);
    expect((await arcp(['tape', 'scan', cancel])).exitCode).toBe(0);
    const ls = await arcp(['tape', 'ls', dir(), '--json']);
    expect(JSON.parse(ls.stdout).tapes.map((t: { path: string }) => t.path)).toEqual(expect.arrayContaining([cancel, http]));
  });

  it('export --har gives a HAR 1.2 log with the chunk boundaries', async () => {
    const r = await arcp(['tape', 'export', http, '--har']);
    const har = JSON.parse(r.stdout);
    expect(har.log.version).toBe('1.2');
    const [e] = har.log.entries;
    expect(e.request).toMatchObject({ method: 'POST', postData: { text: '{"q":1}' }, queryString: [{ name: 'x', value: '1' }] });
    expect(e.response).toMatchObject({ status: 200, content: { mimeType: 'text/event-stream' } });
    expect(e._chunks).toHaveLength(5);
    expect(e.response.content.text).toBe([0, 1, 2, 3, 4].map((n) => `data: {"n":${n}}\n\n`).join(''));
  });

  it('scan exits 1 on secrets left in clear', async () => {
    const clear = tape('clear.tape');
    await arcp(['tape', 'import', join(CAPTURES_DIR, 'credentials.jsonl'), '--tape', clear, '--no-redact']);
    const r = await arcp(['tape', 'scan', clear]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/\/payload\/credentials\/\*\/value/);
    expect(r.stdout).not.toMatch(/"tok"/);
  });

  it('verify exits 1 on a tampered blob', async () => {
    const t = tape('tampered.tape');
    copyFileSync(cancel, t);
    const db = new Database(t);
    db.prepare("UPDATE blobs SET data = CAST('{}' AS BLOB), size = 2 WHERE id = 3").run();
    db.close();
    const r = await arcp(['tape', 'verify', t]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/does not hash to its name/);
  });

  it.each([
    ['missing', () => tape('nope.tape'), /no tape at .*nope\.tape/],
    ['a text file', () => (writeFileSync(tape('text.tape'), 'hello, not a database\n'.repeat(100)), tape('text.tape')), /is not an arcp tape \(not an SQLite file\)/],
    ['another SQLite file', () => { const p = tape('other.db'); const d = new Database(p); d.exec('create table t(x)'); d.close(); return p; }, /is an SQLite file but not an arcp tape/],
    ['a newer format', () => { const p = tape('newer.tape'); copyFileSync(cancel, p); const d = new Database(p); d.pragma('user_version = 99'); d.close(); return p; }, /tape format 99; this arcp reads format 2.*upgrade arcp/],
    ['a truncated file', () => { const p = tape('cut.tape'); copyFileSync(cancel, p); truncateSync(p, Math.floor(statSync(p).size / 2)); return p; }, /cut\.tape (is damaged|cannot be read as a tape|: the bytes)/],
  ])('a bad tape (%s) gets one line and exit 2', async (_name, make, re) => {
    const r = await arcp(['tape', 'show', make()]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(re);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
