import { describe, expect, it } from 'vitest';
import { compareFrames } from '../../src/replay/compare.js';
import { Echoes } from '../../src/replay/echo.js';
import { IdMap } from '../../src/replay/ids.js';
import { Volatility } from '../../src/replay/volatile.js';

const b = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
const preset = () => new Volatility();
const cmp = (rec: unknown, live: unknown, o: { vol?: Volatility; ids?: IdMap; echoes?: Echoes; parsed?: unknown } = {}) =>
  compareFrames(b(rec), b(live), o.vol ?? preset(), o.ids ?? new IdMap(), o.echoes, o.parsed);

describe('what an exact match teaches', () => {
  it('the identifiers of the frame, from its bytes or from the caller’s parse, and nothing else', () => {
    const frame = { id: 'msg_1', job_id: 'job_1', payload: { id: 'not-a-message-id', ts: '2026-01-01T00:00:00Z', note: 'hello' } };
    for (const parsed of [undefined, frame]) {
      const ids = new IdMap();
      expect(cmp(frame, frame, { ids, parsed })).toEqual({ ok: true, how: 'exact', fields: [] });
      expect([ids.live('msg_1'), ids.live('job_1')]).toEqual(['msg_1', 'job_1']);
      expect([ids.live('not-a-message-id'), ids.live('2026-01-01T00:00:00Z'), ids.live('hello')]).toEqual([undefined, undefined, undefined]);
      // What it learnt binds later frames: the same recorded job may not turn into another live one.
      expect(cmp({ job_id: 'job_1' }, { job_id: 'job_2' }, { ids }).fields[0]).toMatchObject({ pointer: '/job_id', tolerated: false, rule: 'preset: identifier (job_id): inconsistent, recorded "job_1" was live "job_1" earlier' });
    }
  });

  it('the caller’s parse is the one used (equal bytes parse alike): the live bytes are not parsed again', () => {
    const ids = new IdMap();
    compareFrames(b({ job_id: 'job_1' }), b({ job_id: 'job_1' }), preset(), ids, undefined, { job_id: 'job_from_the_parse' });
    expect(ids.live('job_from_the_parse')).toBe('job_from_the_parse');
    expect(ids.live('job_1')).toBeUndefined();
    // Differing bytes: the parse handed over stands for the live frame too.
    expect(compareFrames(b({ a: 1 }), Buffer.from('not json'), preset(), new IdMap(), undefined, { a: 1 })).toMatchObject({ ok: true, how: 'structural' });
  });

  it('a frame that is not a JSON object teaches nothing, and an exact non-JSON frame is still exact', () => {
    const ids = new IdMap();
    expect(cmp('[{"job_id":"job_9"}]', '[{"job_id":"job_9"}]', { ids }).how).toBe('exact');
    expect(ids.live('job_9')).toBeUndefined();
    expect(cmp('{"job_id": "job_7", oops', '{"job_id": "job_7", oops', { ids })).toEqual({ ok: true, how: 'exact', fields: [] });
    expect(ids.live('job_7')).toBeUndefined();
  });
});

describe('what an exact match learns, by key or by path', () => {
  // Every kind of place an identifier can sit, and places that look like one but are not.
  const frame = {
    id: 'msg_top',
    session_id: 'sess_1',
    payload: {
      id: 'nested-id-not-learnt',
      value: 'plain-value-not-learnt',
      job_id: 'job_deep',
      resume_token: 'rt_1',
      cursor: 'cur_1',
      ref_id: '[arcp-redacted:1]',
      event_seq: 'seq-string',
      list: ['job_in_array', { trace_id: 'tr_in_array' }, [{ id: 'deep-array-id' }]],
      credentials: [{ id: 'cred_1', value: 'secret-value', nested: { value: 'cred_nested_value' } }],
      auth: { credentials: { id: 'cred_2' } },
      n_id: 42,
      empty: null,
    },
  };
  const every = ['msg_top', 'sess_1', 'nested-id-not-learnt', 'plain-value-not-learnt', 'job_deep', 'rt_1', 'cur_1', '[arcp-redacted:1]', 'seq-string', 'job_in_array', 'tr_in_array', 'deep-array-id', 'cred_1', 'secret-value', 'cred_nested_value', 'cred_2'];
  const learnt = (vol: Volatility) => {
    const ids = new IdMap();
    compareFrames(b(frame), b(frame), vol, ids, undefined, frame);
    return every.filter((v) => ids.live(v) !== undefined);
  };

  it('the preset alone (no path built) learns what the path rules say', () => {
    expect(learnt(preset())).toEqual(['msg_top', 'sess_1', 'job_deep', 'rt_1', 'cur_1', 'tr_in_array', 'cred_1', 'secret-value', 'cred_nested_value', 'cred_2']);
    expect(learnt(new Volatility({ preset: false, pointers: [] }))).toEqual([]);
  });

  it('a user rule, which may match any path, is judged on the path: it ignores what it names', () => {
    expect(learnt(new Volatility({ preset: true, pointers: ['/payload/job_id', '/payload/credentials/*/id'] }))).toEqual(['msg_top', 'sess_1', 'rt_1', 'cur_1', 'tr_in_array', 'secret-value', 'cred_nested_value', 'cred_2']);
  });

  it('for each identifier place, the key-only judgement agrees with treat() on the full path', () => {
    const vol = preset();
    const cases: [string[], string][] = [
      [['id'], 'x'], [['payload', 'id'], 'x'], [['job_id'], 'x'], [['a', 'b', 'trace_id'], 'x'], [['payload', 'nonce'], 'x'],
      [['credentials', '0', 'value'], 'x'], [['credentials', '0', 'id'], 'x'], [['a', 'credentials', 'b', 'value'], 'x'], [['value'], 'x'],
      [['job_id'], '[arcp-redacted:3]'], [['event_seq'], 'x'], [['expires_at'], 'x'], [['payload', 'text'], 'x'],
    ];
    for (const [path, v] of cases) {
      const key = path[path.length - 1];
      const underCredentials = path.slice(0, -1).includes('credentials');
      expect([path.join('/'), vol.isIdLeaf(key, path.length, underCredentials, v)]).toEqual([path.join('/'), vol.treat(path, v)?.kind === 'id']);
    }
  });
});

describe('frames that cannot be compared as JSON', () => {
  it('say which side is not JSON', () => {
    expect(cmp('not json', '{"a":1}')).toEqual({ ok: false, how: 'different', fields: [], note: 'the recorded frame is not JSON, and the bytes differ' });
    expect(cmp('{"a":1}', 'not json')).toEqual({ ok: false, how: 'different', fields: [], note: 'the live frame is not JSON' });
  });
});

describe('field by field', () => {
  it('equal strings at identifier keys are still learnt (a structural match binds them too)', () => {
    const ids = new IdMap();
    expect(cmp({ job_id: 'job_1', n: 1 }, { n: 1, job_id: 'job_1' }, { ids })).toEqual({ ok: true, how: 'structural', fields: [] });
    expect(ids.live('job_1')).toBe('job_1');
  });

  it('a consistent identifier is tolerated and named; an equal one is not reported', () => {
    const ids = new IdMap();
    expect(cmp({ job_id: 'job_1', x: 'same' }, { x: 'same', job_id: 'job_2' }, { ids }).fields).toEqual([{ pointer: '/job_id', expected: 'job_1', actual: 'job_2', rule: 'preset: identifier (job_id)', tolerated: true }]);
    expect(cmp({ job_id: 'job_1', x: 1 }, { x: 1, job_id: 'job_2' }, { ids }).fields).toEqual([{ pointer: '/job_id', expected: 'job_1', actual: 'job_2', rule: 'preset: identifier (job_id)', tolerated: true }]);
  });

  it('a field on one side only is never tolerated by the preset, even at a volatile key; a user rule tolerates it', () => {
    for (const [rec, live] of [[{ a: 1, sent_at: 't1' }, { a: 1 }], [{ a: 1 }, { a: 1, sent_at: 't1' }], [{ a: 1, job_id: 'job_1' }, { a: 1 }]]) {
      const r = cmp(rec, live);
      expect(r.ok, JSON.stringify([rec, live])).toBe(false);
      expect(r.fields[0]).toMatchObject({ rule: 'exact', tolerated: false });
    }
    const user = new Volatility({ preset: true, pointers: ['/sent_at'] });
    expect(cmp({ a: 1, sent_at: 't1' }, { a: 1 }, { vol: user }).fields).toEqual([{ pointer: '/sent_at', expected: 't1', actual: undefined, rule: 'user: /sent_at', tolerated: true }]);
    expect(cmp({ a: 1 }, { a: 1, sent_at: 't1' }, { vol: user }).fields).toEqual([{ pointer: '/sent_at', expected: undefined, actual: 't1', rule: 'user: /sent_at', tolerated: true }]);
  });

  it('a value of another JSON type is never tolerated by the preset (a job id that became a number, a timestamp that became null)', () => {
    for (const [rec, live] of [[{ job_id: 'job_1' }, { job_id: 5 }], [{ sent_at: 't1' }, { sent_at: null }], [{ next_cursor: 'c1' }, { next_cursor: null }], [{ next_cursor: null }, { next_cursor: 'c1' }]]) {
      expect(cmp(rec, live).fields[0], JSON.stringify([rec, live])).toMatchObject({ rule: 'exact', tolerated: false });
    }
    expect(cmp({ sent_at: 't1' }, { sent_at: null }, { vol: new Volatility({ preset: true, pointers: ['/sent_at'] }) }).fields[0]).toMatchObject({ rule: 'user: /sent_at', tolerated: true });
    // event_seq is judged apart (gap-free), but null is not a sequence number.
    expect(cmp({ event_seq: null }, { event_seq: {} }).fields[0]).toMatchObject({ rule: 'exact', tolerated: false });
    expect(cmp({ event_seq: 3 }, { event_seq: 4 })).toMatchObject({ ok: true, how: 'structural' });
    expect(cmp({ event_seq: 3, agent: 'a' }, { event_seq: 4, agent: 'b' })).toMatchObject({ ok: false, how: 'different' });
  });

  it('arrays compare element by element; an element on one side only is reported at its index', () => {
    expect(cmp({ a: [1, 2, 3] }, { a: [1, 2, 3] }).ok).toBe(true);
    expect(cmp({ a: [1, 2, 3] }, { a: [1, 2] }).fields).toEqual([{ pointer: '/a/2', expected: 3, actual: undefined, rule: 'exact', tolerated: false }]);
    expect(cmp({ a: [1] }, { a: [1, { x: 1 }] }).fields).toEqual([{ pointer: '/a/1', expected: undefined, actual: { x: 1 }, rule: 'exact', tolerated: false }]);
    expect(cmp({ a: [1, [2, 'x']] }, { a: [1, [2, 'y']] }).fields).toEqual([{ pointer: '/a/1/1', expected: 'x', actual: 'y', rule: 'exact', tolerated: false }]);
    expect(cmp({ a: [{ sent_at: 't1' }] }, { a: [{ sent_at: 't2' }] }).fields).toEqual([{ pointer: '/a/0/sent_at', expected: 't1', actual: 't2', rule: 'preset: timestamp (sent_at)', tolerated: true }]);
    // An array against an object, and null against either, differ as values.
    expect(cmp({ a: [1] }, { a: { 0: 1 } }).fields).toEqual([{ pointer: '/a', expected: [1], actual: { 0: 1 }, rule: 'exact', tolerated: false }]);
    expect(cmp({ a: null }, { a: { b: 1 } }).fields).toEqual([{ pointer: '/a', expected: null, actual: { b: 1 }, rule: 'exact', tolerated: false }]);
    expect(cmp({ a: { b: 1 } }, { a: null }).fields).toEqual([{ pointer: '/a', expected: { b: 1 }, actual: null, rule: 'exact', tolerated: false }]);
  });

  it('identifiers inside strings: the learnt live id (preset only), or an echoed value', () => {
    const ids = new IdMap();
    ids.learn('job_AAAAAAAA', 'job_BBBBBBBB');
    const rec = { payload: { uri: 'arcp://jobs/job_AAAAAAAA/log' } };
    const live = { payload: { uri: 'arcp://jobs/job_BBBBBBBB/log' } };
    expect(cmp(rec, live, { ids }).fields).toEqual([{ pointer: '/payload/uri', expected: rec.payload.uri, actual: live.payload.uri, rule: 'preset: identifier inside a string', tolerated: true }]);
    expect(cmp(rec, { payload: { uri: 'arcp://jobs/job_CCCCCCCC/log' } }, { ids }).fields[0]).toMatchObject({ rule: 'exact', tolerated: false });
    expect(cmp(rec, live, { ids, vol: new Volatility({ preset: false, pointers: [] }) }).fields[0]).toMatchObject({ rule: 'exact', tolerated: false });
    const echoes = new Echoes();
    echoes.pair('2026-01-01T00:00:00Z', '2026-12-02T10:00:00Z', '/payload/expires_at');
    const said = (at: string) => ({ payload: { message: `lease expired at ${at}` } });
    expect(cmp(said('2026-01-01T00:00:00Z'), said('2026-12-02T10:00:00Z'), { echoes }).fields).toEqual([{ pointer: '/payload/message', expected: 'lease expired at 2026-01-01T00:00:00Z', actual: 'lease expired at 2026-12-02T10:00:00Z', rule: 'preset: echoed value inside a string', tolerated: true }]);
    expect(cmp(said('2026-01-01T00:00:00Z'), said('2026-12-02T10:00:00Z')).fields[0]).toMatchObject({ tolerated: false });
    // With echoes and ids learnt, a string they do not explain still differs, and so does a number.
    expect(cmp(said('yesterday'), said('today'), { ids, echoes }).fields[0]).toMatchObject({ rule: 'exact', tolerated: false });
    expect(cmp({ n: 12345678 }, { n: 87654321 }, { ids, echoes }).fields[0]).toMatchObject({ rule: 'exact', tolerated: false });
    expect(cmp({ n: 12345678 }, { n: 'job_BBBBBBBB' }, { ids, echoes }).fields[0]).toMatchObject({ rule: 'exact', tolerated: false });
  });

  it('values the live side chose at echoed rules are learnt as echoes: strings and numbers of the same type only', () => {
    const vol = new Volatility({ preset: true, pointers: ['/payload/n', '/payload/any'] });
    const echoes = new Echoes();
    expect(cmp({ payload: { expires_at: '2026-01-01T00:00:00Z', n: 7 } }, { payload: { expires_at: '2026-12-02T10:00:00Z', n: 9 } }, { vol, echoes }).ok).toBe(true);
    expect(echoes.size).toBe(2);
    expect(echoes.apply(b({ payload: { expires_at: '2026-01-01T00:00:00Z', n: 7 } })).data.toString()).toBe(JSON.stringify({ payload: { expires_at: '2026-12-02T10:00:00Z', n: 9 } }));
    // Not learnt: a value that was not tolerated, one of another type, a non-echoed rule (identifiers are the id map's).
    const none = new Echoes();
    cmp({ payload: { agent: 'abcd', any: 'text', job_id: 'job_1', n: 5 } }, { payload: { agent: 'efgh', any: 12, job_id: 'job_2', n: true } }, { vol, echoes: none });
    expect(none.size).toBe(0);
    // Nor a tolerated value that is neither a string nor a number.
    cmp({ payload: { any: true, n: { x: 1 } } }, { payload: { any: false, n: { x: 2 } } }, { vol: new Volatility({ preset: true, pointers: ['/payload/any', '/payload/n/x', '/payload/n'] }), echoes: none });
    cmp({ payload: { any: [1] } }, { payload: { any: [2, 3] } }, { vol: new Volatility({ preset: true, pointers: ['/payload/any'] }), echoes: none });
    expect(none.size).toBe(1); // only the number at /payload/n/x
  });
});

describe('redaction placeholders', () => {
  it('match any live value at any key, and are judged by the recorded side', () => {
    expect(cmp({ payload: { secret: '[arcp-redacted:1]' } }, { payload: { secret: 's3cr3t' } }).fields).toEqual([{ pointer: '/payload/secret', expected: '[arcp-redacted:1]', actual: 's3cr3t', rule: 'preset: redaction placeholder', tolerated: true }]);
    expect(cmp({ payload: { secret: 's3cr3t' } }, { payload: { secret: '[arcp-redacted:1]' } }).fields[0]).toMatchObject({ rule: 'exact', tolerated: false });
  });
});
