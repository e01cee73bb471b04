import { describe, expect, it } from 'vitest';
import { scryptSync } from 'node:crypto';
import { DEFAULT_HEADERS, DEFAULT_POINTERS, DEFAULT_QUERY_PARAMS, defaultRules, Redactor, scrubCommandLine, summarizeRules } from '../../src/tape/redact.js';
import { parsePointer as pointerTokens } from '../../src/json/pointer.js';

const r = () => new Redactor(defaultRules({ pointers: ['/payload/input/api_key', '/delta/secret'], regexes: ['sk-[A-Za-z0-9]{8,}'] }));

describe('redaction', () => {
  it('replaces only the secret, keeping every other byte (spacing, key order, number forms)', () => {
    const text = '{"type":"session.hello" , "payload":{"auth":{"scheme":"bearer","token":"s3cr3t"},"n":1.50e2}}';
    expect(r().json(text, JSON.parse(text))).toBe('{"type":"session.hello" , "payload":{"auth":{"scheme":"bearer","token":"[arcp-redacted:1]"},"n":1.50e2}}');
  });

  it('gives the same secret the same placeholder, and different ones different', () => {
    const x = r();
    const a = x.json('{"payload":{"auth":{"token":"one"}}}', { payload: { auth: { token: 'one' } } });
    const b = x.json('{"payload":{"auth":{"token":"two"}}}', { payload: { auth: { token: 'two' } } });
    const c = x.json('{"payload":{"auth":{"token":"one"}}}', { payload: { auth: { token: 'one' } } });
    expect([a, b, c].map((s) => /redacted:(\d)/.exec(s)![1])).toEqual(['1', '2', '1']);
  });

  it('wildcards reach every credential value; a value written with escapes falls back to re-encoding', () => {
    const doc = { payload: { credentials: [{ id: 'c1', value: 'v-1' }, { id: 'c2', value: 'v-2' }] } };
    const out = r().json(JSON.stringify(doc), doc);
    expect(out).not.toMatch(/v-1|v-2/);
    const escaped = '{"payload":{"auth":{"token":"\\u0073ecret"}}}';
    const out2 = r().json(escaped, JSON.parse(escaped));
    expect(JSON.parse(out2).payload.auth.token).toBe('[arcp-redacted:1]');
  });

  it('applies pointer rules inside SSE data lines and regexes anywhere', () => {
    const chunk = 'event: delta\ndata: {"delta":{"secret":"abc","text":"hi"}}\r\n\ndata: not json sk-ABCDEFGH123\n\n';
    const out = r().sse(chunk);
    expect(out).toBe('event: delta\ndata: {"delta":{"secret":"[arcp-redacted:1]","text":"hi"}}\r\n\ndata: not json [arcp-redacted:2]\n\n');
  });

  it('redacts listed headers case-insensitively and leaves the rest', () => {
    const { pairs, changed } = r().headerPairs([['Authorization', 'Bearer x'], ['X-Api-Key', 'k'], ['Content-Type', 'application/json']]);
    expect(changed).toBe(true);
    expect(pairs).toEqual([['Authorization', '[arcp-redacted:1]'], ['X-Api-Key', '[arcp-redacted:2]'], ['Content-Type', 'application/json']]);
  });

  it('with redaction off, nothing changes', () => {
    const off = new Redactor(defaultRules({}, false));
    expect(off.active).toBe(false);
    expect(off.json('{"payload":{"auth":{"token":"t"}}}', { payload: { auth: { token: 't' } } })).toContain('"t"');
  });

  it('pointer syntax: ~0 and ~1 escapes; a pointer must start with /', () => {
    expect(pointerTokens('/a~1b/c~0d/*')).toEqual(['a/b', 'c~d', '*']);
    expect(() => pointerTokens('payload')).toThrow(/must start with "\/"/);
  });

  it('the byte pre-check never lets a possible secret through: plain, non-ASCII and \\u-escaped keys', () => {
    const pointers = new Redactor(defaultRules({ pointers: ['/payload/clé'] }));
    expect(pointers.mayMatchBytes(Buffer.from('{"payload":{"n":1}}'))).toBe(false);
    expect(pointers.mayMatchBytes(Buffer.from('{"payload":{"auth":{"token":"x"}}}'))).toBe(true);
    expect(pointers.mayMatchBytes(Buffer.from('{"payload":{"clé":"x"}}'))).toBe(true);
    expect(pointers.mayMatchBytes(Buffer.from('{"payload":{"\\u0074oken":"x"}}'))).toBe(true);
    expect(new Redactor(defaultRules({}, false)).mayMatchBytes(Buffer.from('{"token":"x"}'))).toBe(false);
    expect(r().mayMatchBytes(Buffer.from('anything'))).toBe(true); // a regex rule can match any text
  });
});

describe('the rules', () => {
  it('defaultRules: the defaults when enabled, then the extras (header and query names lower-cased); only the extras when not', () => {
    const extra = { pointers: ['/p/q'], headers: ['X-Secret'], regexes: ['ab+c'], query: ['MyKey'] };
    expect(defaultRules(extra)).toEqual({
      enabled: true,
      pointers: [...DEFAULT_POINTERS, '/p/q'],
      headers: [...DEFAULT_HEADERS, 'x-secret'],
      regexes: ['ab+c'],
      query: [...DEFAULT_QUERY_PARAMS, 'mykey'],
    });
    expect(defaultRules(extra, false)).toEqual({ enabled: false, pointers: ['/p/q'], headers: ['x-secret'], regexes: ['ab+c'], query: ['mykey'] });
    expect(defaultRules({}, false)).toEqual({ enabled: false, pointers: [], headers: [], regexes: [], query: [] });
    expect(DEFAULT_POINTERS).toEqual(['/payload/auth/token', '/payload/credentials/*/value']);
    expect(DEFAULT_HEADERS).toEqual(['authorization', 'proxy-authorization', 'x-api-key', 'api-key', 'cookie', 'set-cookie']);
  });

  it('summarizeRules stores counts and a salted scrypt digest of the extra rules only, never their text', () => {
    const rules = defaultRules({ pointers: ['/p/q'], headers: ['x-secret'], regexes: ['hunter2'], query: ['mykey'] });
    const s = summarizeRules(rules);
    expect(s.enabled).toBe(true);
    expect(s.defaults).toBe(true);
    expect(s.counts).toEqual({ pointers: 3, headers: 7, regexes: 1, query: DEFAULT_QUERY_PARAMS.length + 1 });
    const m = /^scrypt:([0-9a-f]{32}):([0-9a-f]{64})$/.exec(s.extra_digest);
    expect(m).not.toBeNull();
    const extra = { pointers: ['/p/q'], headers: ['x-secret'], regexes: ['hunter2'], query: ['mykey'] };
    expect(scryptSync(JSON.stringify(extra), Buffer.from(m![1], 'hex'), 32).toString('hex')).toBe(m![2]);
    expect(JSON.stringify(s)).not.toMatch(/hunter2|x-secret|mykey|\/p\/q/);
    expect(summarizeRules(rules).extra_digest).not.toBe(s.extra_digest); // a fresh salt each time
    const off = summarizeRules({ enabled: false, pointers: [], headers: [], regexes: [] });
    expect(off).toMatchObject({ enabled: false, defaults: false, counts: { pointers: 0, headers: 0, regexes: 0, query: 0 } });
    const [, salt, digest] = off.extra_digest.split(':');
    expect(scryptSync(JSON.stringify({ pointers: [], headers: [], regexes: [], query: [] }), Buffer.from(salt, 'hex'), 32).toString('hex')).toBe(digest);
  });
});

describe('a stored command line', () => {
  // Built in each test: a constructor that throws must fail a test, not the file's collection.
  const on = () => new Redactor(defaultRules({ regexes: ['sk-[a-z]+'] }));
  it('every secret flag\'s value, as the next argument or after =, is replaced; other flags are kept', () => {
    const flags = ['--redact-regex', '--redact-pointer', '--redact-header', '--redact-query', '--regex', '--pointer', '--header', '--query', '--token', '--token2', '--observer-token', '--api-key', '--password', '--secret'];
    for (const f of flags) {
      expect(scrubCommandLine(['arcp', f, 'v4lue', 'next'], on()), f).toEqual(['arcp', f, '[arcp-redacted]', 'next']);
      expect(scrubCommandLine(['arcp', `${f}=v4lue`], on()), f).toEqual(['arcp', `${f}=[arcp-redacted]`]);
    }
    expect(scrubCommandLine(['--token', '--port', '9', '--tokens=x', 'a=b'], on())).toEqual(['--token', '[arcp-redacted]', '9', '--tokens=x', 'a=b']);
    expect(scrubCommandLine(['-token=x', 'x--token=y'], on())).toEqual(['-token=x', 'x--token=y']);
  });

  it('arguments are redacted as URLs and by the regex rules, unless redaction is off and no rule is given', () => {
    const argv = ['arcp', 'record', '--upstream', 'wss://me:pa55@host/arcp?token=t0k&x=1', 'note sk-abc'];
    expect(scrubCommandLine(argv, on())).toEqual(['arcp', 'record', '--upstream', 'wss://me:[arcp-redacted:2]@host/arcp?token=[arcp-redacted:1]&x=1', 'note [arcp-redacted:3]']);
    expect(scrubCommandLine(argv, new Redactor(defaultRules({}, false)))).toEqual(argv);
    const ruleOnly = new Redactor(defaultRules({ regexes: ['sk-[a-z]+'] }, false));
    expect(scrubCommandLine(argv, ruleOnly)).toEqual(['arcp', 'record', '--upstream', 'wss://me:pa55@host/arcp?token=t0k&x=1', 'note [arcp-redacted:1]']);
  });
});

describe('URLs', () => {
  const q = () => new Redactor(defaultRules());
  it('every default credential parameter is redacted, whatever its case or percent-encoding', () => {
    expect(DEFAULT_QUERY_PARAMS).toHaveLength(21);
    for (const name of DEFAULT_QUERY_PARAMS) {
      expect(q().url(`/v1?${name}=s3cr3t&keep=1`), name).toBe(`/v1?${name}=[arcp-redacted:1]&keep=1`);
      expect(q().url(`/v1?a=1&${name.toUpperCase()}=s3cr3t`), name).toBe(`/v1?a=1&${name.toUpperCase()}=[arcp-redacted:1]`);
    }
    expect(q().url('/v1?api%5Fkey=s3cr3t')).toBe('/v1?api%5Fkey=[arcp-redacted:1]');
    expect(q().url('/v1?%zz=s3cr3t&keyx=1&xkey=2')).toBe('/v1?%zz=s3cr3t&keyx=1&xkey=2');
  });

  it('a value ends at & # ; whitespace or a quote; an empty value or a placeholder is left', () => {
    const r = q();
    expect(r.url('/a;token=one#frag')).toBe('/a;token=[arcp-redacted:1]#frag');
    expect(r.url('GET /a?token=two x?key=one"')).toBe('GET /a?token=[arcp-redacted:2] x?key=[arcp-redacted:1]"');
    expect(r.url("'/a?key=t\thi'")).toBe("'/a?key=[arcp-redacted:3]\thi'");
    expect(r.url('/a?token=&key=[arcp-redacted:1]')).toBe('/a?token=&key=[arcp-redacted:1]');
    expect(r.url('/a?token')).toBe('/a?token');
    expect(r.url('text with token=abc but no separator')).toBe('text with token=abc but no separator');
  });

  it('a URL password becomes a placeholder; the user name and host stay', () => {
    const r = q();
    expect(r.url('connect to HTTPS://alice:pw%40x@example.com:8443/p and ws://bob:two@h')).toBe('connect to HTTPS://alice:[arcp-redacted:1]@example.com:8443/p and ws://bob:[arcp-redacted:2]@h');
    expect(r.url('https://alice:[arcp-redacted:1]@example.com')).toBe('https://alice:[arcp-redacted:1]@example.com');
    expect(r.url('https://alice@example.com/x:y@z')).toBe('https://alice@example.com/x:y@z');
    expect(r.url('mailto:a:b@c')).toBe('mailto:a:b@c');
  });

  it('with no query rules a URL is changed only by the regex rules', () => {
    const none = new Redactor({ enabled: true, pointers: [], headers: [], regexes: ['s3cr3t'] });
    expect(none.url('https://u:pw@h/?token=s3cr3t')).toBe('https://u:pw@h/?token=[arcp-redacted:1]');
    expect(new Redactor({ enabled: true, pointers: [], headers: [], regexes: [] }).url('https://u:pw@h/?token=x')).toBe('https://u:pw@h/?token=x');
  });

  it('mayMatchUrl is false only when url() cannot change the text', () => {
    expect(q().mayMatchUrl('/plain/path')).toBe(false);
    expect(q().mayMatchUrl('/p?token=x')).toBe(true);
    expect(q().mayMatchUrl('https://u:p@h')).toBe(true);
    expect(new Redactor({ enabled: true, pointers: [], headers: [], regexes: [] }).mayMatchUrl('/p?token=x')).toBe(false);
    expect(new Redactor({ enabled: true, pointers: [], headers: [], regexes: ['x'] }).mayMatchUrl('/plain')).toBe(true);
  });

  it('credentialParams lists what is left in clear, by name', () => {
    expect(q().credentialParams('wss://me:pa55@h/?Token=t0k&x=1&key=&sig=[arcp-redacted:1]&api%5Fkey=k; https://u:[arcp-redacted:2]@h')).toEqual([
      { name: 'Token', value: 't0k' },
      { name: 'api%5Fkey', value: 'k' },
      { name: 'URL password', value: 'pa55' },
    ]);
    expect(q().credentialParams('/nothing?x=1')).toEqual([]);
  });
});

describe('frames', () => {
  it('placeholders count up from 1 per redactor', () => {
    const x = new Redactor(defaultRules());
    expect([x.placeholderFor('a'), x.placeholderFor('b'), x.placeholderFor('a'), x.placeholderFor('c')]).toEqual(['[arcp-redacted:1]', '[arcp-redacted:2]', '[arcp-redacted:1]', '[arcp-redacted:3]']);
  });

  it('json(): without the parsed document only the regexes apply; empty secrets and placeholders are left', () => {
    const x = r();
    expect(x.json('{"payload":{"auth":{"token":"t"}},"k":"sk-ABCDEFGH1"}')).toBe('{"payload":{"auth":{"token":"t"}},"k":"[arcp-redacted:1]"}');
    const doc = { payload: { auth: { token: '' }, credentials: [{ value: '[arcp-redacted:7]' }, { value: 7 }] } };
    expect(x.json(JSON.stringify(doc), doc)).toBe(JSON.stringify(doc));
    // The same secret in two places is replaced in both.
    const two = { payload: { auth: { token: 'tt' }, credentials: [{ value: 'tt' }] } };
    expect(x.json(JSON.stringify(two), two)).toBe('{"payload":{"auth":{"token":"[arcp-redacted:2]"},"credentials":[{"value":"[arcp-redacted:2]"}]}}');
  });

  it('re-encoding reaches wildcards and skips what is not there or not a string', () => {
    const x = new Redactor(defaultRules({ pointers: ['/a/*/b'] }));
    const text = '{"a":{"one":{"b":"\\u0031"},"two":{"b":5},"three":{"c":"x"},"four":"s"},"payload":{"credentials":[{"value":"\\u0032"}]}}';
    expect(JSON.parse(x.json(text, JSON.parse(text)))).toEqual({
      a: { one: { b: '[arcp-redacted:2]' }, two: { b: 5 }, three: { c: 'x' }, four: 's' },
      payload: { credentials: [{ value: '[arcp-redacted:1]' }] },
    });
    const proto = '{"payload":{"auth":{"token":"\\u0074"}},"x":{"constructor":1}}';
    expect(JSON.parse(x.json(proto, JSON.parse(proto)))).toEqual({ payload: { auth: { token: '[arcp-redacted:3]' } }, x: { constructor: 1 } });
  });

  it('text() applies every regex, and leaves placeholders alone', () => {
    // Regex by regex: the first one's matches are numbered first.
    const x = new Redactor(defaultRules({ regexes: ['aa+', 'b\\d', '\\[arcp-redacted:\\d+\\]'] }));
    expect(x.text('xaaay b1 aa [arcp-redacted:9]')).toBe('x[arcp-redacted:1]y [arcp-redacted:3] [arcp-redacted:2] [arcp-redacted:9]');
  });

  it('sse(): a chunk that cannot hold a pointer\'s key gets the regexes only; data lines with or without a space, other lines kept', () => {
    const x = r();
    expect(x.sse('data: {"token":"t"}\n\n')).toBe('data: {"token":"t"}\n\n'); // the key, but not at a pointer
    expect(x.sse('data: {"payload":{"n":1}}\n')).toBe('data: {"payload":{"n":1}}\n'); // no pointer's key at all
    const chunk = 'data:{"payload":{"auth":{"token":"a1"}}}\ndata: [1,"token"]\ndata: {"token": broken\nid: {"token":"x"}\ndata: {"payload":{"auth":{"token":"a2"}}}\r\n';
    expect(x.sse(chunk)).toBe('data:{"payload":{"auth":{"token":"[arcp-redacted:1]"}}}\ndata: [1,"token"]\ndata: {"token": broken\nid: {"token":"x"}\ndata: {"payload":{"auth":{"token":"[arcp-redacted:2]"}}}\r\n');
    const noPointers = new Redactor({ enabled: true, pointers: [], headers: [], regexes: ['zz+'] });
    expect(noPointers.sse('data: {"payload":{"auth":{"token":"zzz"}}}\n')).toBe('data: {"payload":{"auth":{"token":"[arcp-redacted:1]"}}}\n');
    expect(x.sse('data: {"other":"sk-ABCDEFGH12"}\n')).toBe('data: {"other":"[arcp-redacted:3]"}\n');
    expect(x.sse(' data: {"payload":{"auth":{"token":"a3"}}}\n')).toBe(' data: {"payload":{"auth":{"token":"a3"}}}\n');
  });

  it('headerPairs(): nothing to do hands the pairs back; regexes reach every value; a placeholder value is not redacted again', () => {
    const plain = new Redactor({ enabled: true, pointers: [], headers: ['authorization'], regexes: [] });
    const pairs: [string, string][] = [['content-type', 'text/plain']];
    const same = plain.headerPairs(pairs);
    expect(same.pairs).toBe(pairs);
    expect(same.changed).toBe(false);
    expect(plain.headerPairs([['Authorization', '[arcp-redacted:4]'], ['x', 'y']])).toEqual({ pairs: [['Authorization', '[arcp-redacted:4]'], ['x', 'y']], changed: false });
    const rx = new Redactor({ enabled: true, pointers: [], headers: [], regexes: ['sk-\\w+'] });
    expect(rx.headerPairs([['x-note', 'key sk-abc'], ['y', 'n']])).toEqual({ pairs: [['x-note', 'key [arcp-redacted:1]'], ['y', 'n']], changed: true });
    expect(rx.headerPairs([['y', 'n']])).toEqual({ pairs: [['y', 'n']], changed: false });
  });

  it('active counts every kind of rule', () => {
    const none = { enabled: true, pointers: [], headers: [], regexes: [] };
    expect(new Redactor(none).active).toBe(false);
    expect(new Redactor({ ...none, pointers: ['/a'] }).active).toBe(true);
    expect(new Redactor({ ...none, headers: ['a'] }).active).toBe(true);
    expect(new Redactor({ ...none, regexes: ['a'] }).active).toBe(true);
    expect(new Redactor({ ...none, query: ['a'] }).active).toBe(true);
  });

  it('the byte pre-check looks for the last key that is not a wildcard; a pointer of wildcards only passes everything with pointers', () => {
    const wild = new Redactor({ enabled: true, pointers: ['/list/*'], headers: [], regexes: [] });
    expect(wild.mayMatchBytes(Buffer.from('{"list":["x"]}'))).toBe(true);
    expect(wild.mayMatchBytes(Buffer.from('{"other":["x"]}'))).toBe(false);
    const all = new Redactor({ enabled: true, pointers: ['/*'], headers: [], regexes: [] });
    expect(all.mayMatchBytes(Buffer.from('{"anything":1}'))).toBe(true);
    const none = new Redactor({ enabled: true, pointers: [], headers: ['authorization'], regexes: [] });
    expect(none.mayMatchBytes(Buffer.from('{"authorization":"x"}'))).toBe(false);
  });
});

describe('what the earlier checks must not let through', () => {
  it('a pointer\'s key written with \\u escapes in an SSE data line is still found', () => {
    const chunk = 'data: {"payload":{"auth":{"\\u0074oken":"s3cr3t"}}}\n\n';
    const out = new Redactor(defaultRules()).sse(chunk);
    expect(out).not.toContain('s3cr3t');
    expect(JSON.parse(out.slice('data: '.length)).payload.auth.token).toBe('[arcp-redacted:1]');
  });

  it('an SSE data line holding an array gets the pointer rules too; one holding neither object nor array is kept', () => {
    const x = new Redactor(defaultRules({ pointers: ['/0/secret'] }));
    expect(x.sse('data: [{"secret":"arr-s3"}]\n\ndata: [DONE]\n\ndata: "secret"\n\n')).toBe('data: [{"secret":"[arcp-redacted:1]"}]\n\ndata: [DONE]\n\ndata: "secret"\n\n');
  });

  it('a pointer that ends at an object leaves the object as it is, whatever its keys', () => {
    const x = new Redactor(defaultRules());
    const text = '{"payload":{"auth":{"token":{"undefined":"u","x":"y"}},"credentials":[{"value":"\\u0076"}]}}';
    expect(JSON.parse(x.json(text, JSON.parse(text)))).toEqual({ payload: { auth: { token: { undefined: 'u', x: 'y' } }, credentials: [{ value: '[arcp-redacted:1]' }] } });
  });

  it('with no pointer rules the byte pre-check is false even for \\u escapes', () => {
    const headersOnly = new Redactor({ enabled: true, pointers: [], headers: ['authorization'], regexes: [] });
    expect(headersOnly.mayMatchBytes(Buffer.from('{"a":"\\u0041"}'))).toBe(false);
  });

  it('listed headers are redacted with no regex rules too, whatever their case', () => {
    const x = new Redactor(defaultRules());
    expect(x.headerPairs([['Accept', '*/*'], ['AUTHORIZATION', 'Bearer x']])).toEqual({ pairs: [['Accept', '*/*'], ['AUTHORIZATION', '[arcp-redacted:1]']], changed: true });
  });

  it('a placeholder with any number of digits is not redacted again', () => {
    const x = new Redactor(defaultRules({ regexes: ['\\[arcp-redacted:\\d+\\]'] }));
    expect(x.url('/a?token=[arcp-redacted:12]')).toBe('/a?token=[arcp-redacted:12]');
    expect(x.text('[arcp-redacted:345]')).toBe('[arcp-redacted:345]');
    const doc = { payload: { auth: { token: '[arcp-redacted:10]' } } };
    expect(x.json(JSON.stringify(doc), doc)).toBe(JSON.stringify(doc));
  });

  it('re-encoding walks past nulls and strings where a pointer expects an object', () => {
    const x = new Redactor(defaultRules({ pointers: ['/list/*', '/n/x/y'] }));
    const text = '{"list":"abc","n":{"x":null},"payload":{"auth":{"token":"\\u0074"}}}';
    expect(JSON.parse(x.json(text, JSON.parse(text)))).toEqual({ list: 'abc', n: { x: null }, payload: { auth: { token: '[arcp-redacted:1]' } } });
  });
});
