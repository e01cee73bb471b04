import { describe, expect, it } from 'vitest';
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
