import { describe, expect, it } from 'vitest';
import { defaultRules, Redactor } from '../../src/tape/redact.js';
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
