import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diffTapes } from '../../src/replay/diff.js';
import { importJsonl } from '../../src/tape/interchange/import-jsonl.js';
import { compareFrames } from '../../src/replay/compare.js';
import { HttpMatcher } from '../../src/replay/http-match.js';
import { IdMap } from '../../src/replay/ids.js';
import { Volatility } from '../../src/replay/volatile.js';

const b = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
const cmp = (rec: unknown, live: unknown, vol = new Volatility(), ids = new IdMap()) => compareFrames(b(rec), b(live), vol, ids);

describe('frame comparison', () => {
  it('same bytes: exact; same JSON with other spacing or key order: structural', () => {
    expect(cmp('{"a":1,"b":2}', '{"a":1,"b":2}').how).toBe('exact');
    expect(cmp('{"a":1,"b":2}', '{ "b": 2, "a": 1 }')).toMatchObject({ ok: true, how: 'structural' });
  });

  it('names each differing field with the rule that decided it', () => {
    const r = cmp({ id: 'msg_1', type: 'job.submit', payload: { agent: 'echo', sent_at: 't1' } }, { id: 'msg_2', type: 'job.submit', payload: { agent: 'chatty', sent_at: 't2', extra: true } });
    expect(r.ok).toBe(false);
    expect(r.fields).toEqual([
      { pointer: '/id', expected: 'msg_1', actual: 'msg_2', rule: 'preset: message id', tolerated: true },
      { pointer: '/payload/agent', expected: 'echo', actual: 'chatty', rule: 'exact', tolerated: false },
      { pointer: '/payload/sent_at', expected: 't1', actual: 't2', rule: 'preset: timestamp (sent_at)', tolerated: true },
      { pointer: '/payload/extra', expected: undefined, actual: true, rule: 'exact', tolerated: false },
    ]);
  });

  it('user rules tolerate what they name; --no-preset makes everything exact', () => {
    const user = new Volatility({ preset: true, pointers: ['/payload/body/*/ms'] });
    expect(cmp({ payload: { body: { a: { ms: 1 } } } }, { payload: { body: { a: { ms: 9 } } } }, user).fields[0]).toMatchObject({ rule: 'user: /payload/body/*/ms', tolerated: true });
    expect(cmp({ id: 'a' }, { id: 'b' }, new Volatility({ preset: false, pointers: [] })).ok).toBe(false);
  });

  it('identifiers must map consistently, and are recognised inside strings', () => {
    const ids = new IdMap();
    expect(cmp({ job_id: 'job_AAAAAAAA' }, { job_id: 'job_BBBBBBBB' }, undefined, ids).ok).toBe(true);
    expect(cmp({ uri: 'arcp://artifacts/job_AAAAAAAA/r.html' }, { uri: 'arcp://artifacts/job_BBBBBBBB/r.html' }, undefined, ids).fields[0]).toMatchObject({ rule: 'preset: identifier inside a string', tolerated: true });
    const clash = cmp({ job_id: 'job_AAAAAAAA' }, { job_id: 'job_CCCCCCCC' }, undefined, ids);
    expect(clash.ok).toBe(false);
    expect(clash.fields[0].rule).toMatch(/inconsistent, recorded "job_AAAAAAAA" was live "job_BBBBBBBB" earlier/);
    expect(ids.apply(b('{"job_id":"job_AAAAAAAA"}')).toString()).toBe('{"job_id":"job_BBBBBBBB"}');
  });

  it('a redaction placeholder matches any live value; a non-JSON live frame is a plain mismatch', () => {
    expect(cmp({ payload: { auth: { token: '[arcp-redacted:1]' } } }, { payload: { auth: { token: 'real' } } }).ok).toBe(true);
    expect(cmp({ a: 1 }, 'not json')).toMatchObject({ ok: false, note: 'the live frame is not JSON' });
  });
});

describe('walking frames from strangers', () => {
  const deep = (n: number, leaf: string) => '{"a":'.repeat(n) + leaf + '}'.repeat(n);
  it('compares frames nested 100k deep without recursion, naming the deep pointer', () => {
    const vol = new Volatility();
    const same = compareFrames(Buffer.from(deep(100_000, '1')), Buffer.from(deep(100_000, '1') + ' '), vol, new IdMap());
    expect(same.ok).toBe(true);
    const diff = compareFrames(Buffer.from(deep(100_000, '1')), Buffer.from(deep(100_000, '2')), vol, new IdMap());
    expect(diff.ok).toBe(false);
    expect(diff.fields[0].pointer.length).toBe(100_000 * 2);
    expect(() => JSON.stringify(diff)).not.toThrow();
  });
  it('clips a one-sided deep or huge value in the report', () => {
    const vol = new Volatility();
    const diff = compareFrames(Buffer.from(`{"x":${deep(50_000, '1')}}`), Buffer.from('{}'), vol, new IdMap());
    expect(diff.fields[0]).toMatchObject({ pointer: '/x', rule: 'exact', tolerated: false });
    expect(String(diff.fields[0].expected)).toMatch(/… \(clipped\)$/);
    expect(() => JSON.stringify(diff)).not.toThrow();
  });
  it('canonical HTTP bodies: sorted keys, volatile fields left out, deep bodies fine, partial matching too', () => {
    const vol = new Volatility({ preset: true, pointers: ['/meta/*'] });
    const req = (body: string) => ({ method: 'POST', path: '/v1/x', headers: [] as [string, string][], body: Buffer.from(body) });
    const m = new HttpMatcher([], vol);
    expect(m.key(req('{"b":1,"a":{"z":2,"created_at":"x"},"meta":{"q":1}}')).body).toBe('{"a":{"z":2},"b":1,"meta":{}}');
    const d = deep(100_000, '1');
    expect(m.matches(m.key(req(d)), req(d))).toBe(true);
    expect(m.matches(m.key(req(d)), req(deep(100_000, '2')))).toBe(false);
    const partial = new HttpMatcher([{ prefix: '/', headers: [], ignoreQuery: [], volatile: [], partial: true }], vol);
    expect(partial.matches(partial.key(req(d)), req(d))).toBe(true);
  });
});

describe('arcp diff of HTTP exchanges', () => {
  const dir = mkdtempSync(join(tmpdir(), 'arcp-diff-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  /** A tape of one SSE exchange whose body lines (rows) are cut as `rows` says. */
  async function exchange(name: string, rows: string[][]) {
    const line = (i: number, o: object) => JSON.stringify({ i, ts: '2026-12-01T00:00:00.000Z', mono_ms: i, scenario: 's', conn: 'h1', ...o });
    const lines = [line(0, { dir: 'c2s', kind: 'http.request', channel: 'http', raw: JSON.stringify({ method: 'POST', path: '/v1/sse', headers: [] }) })];
    lines.push(line(1, { dir: 's2c', kind: 'http.response', raw: JSON.stringify({ status: 200, headers: [['content-type', 'text/event-stream']] }) }));
    rows.forEach((chunks, k) => lines.push(line(2 + k, { dir: 's2c', kind: 'http.response.body', raw: chunks.join(''), ...(chunks.length > 1 ? { parts: chunks.map((c) => [c.length, 2 + k]) } : {}) })));
    const src = join(dir, `${name}.jsonl`);
    writeFileSync(src, lines.join('\n') + '\n');
    const tape = join(dir, `${name}.tape`);
    await importJsonl({ source: src, tape });
    return tape;
  }
  it('compares a body whole: the same bytes batched into other rows are equal, other bytes are not', async () => {
    const a = await exchange('a', [['data: 1\n\n', 'data: 2\n\n'], ['data: 3\n\n']]);
    const b = await exchange('b', [['data: 1\n\n'], ['data: 2\n\n', 'data: 3\n\n']]);
    const c = await exchange('c', [['data: 1\n\n'], ['data: 2\n\n', 'data: 4\n\n']]);
    expect(diffTapes(a, b).divergences).toEqual([]);
    const d = diffTapes(a, c);
    expect(d.divergences).toHaveLength(1);
    expect(d.divergences[0].dir).toBe('s2c');
  });
});
