import { describe, expect, it } from 'vitest';
import { DEFAULT_VOLATILE, isTimestampKey, Volatility } from '../../src/replay/volatile.js';

// Built in each call: a constructor that throws must fail a test, not the file's collection.
const t = (path: string[], recorded: unknown, v = new Volatility()) => v.treat(path, recorded);

describe('Volatility: how a differing value is judged', () => {
  it('the preset by default, no user rules, and the deepest pointer is at least 1', () => {
    expect(DEFAULT_VOLATILE).toEqual({ preset: true, pointers: [] });
    const preset = new Volatility();
    expect(preset.rules).toBe(DEFAULT_VOLATILE);
    expect(preset.deepestPointer).toBe(1);
    expect(new Volatility({ preset: true, pointers: ['/a/b/c', '/x'] }).deepestPointer).toBe(3);
    expect(new Volatility({ preset: true, pointers: ['/a'] }).deepestPointer).toBe(1);
  });

  it('message ids, identifiers and credential ids/values are ids; only strings', () => {
    expect(t(['id'], 'msg_1')).toEqual({ kind: 'id', rule: 'preset: message id' });
    expect(t(['payload', 'job_id'], 'job_1')).toEqual({ kind: 'id', rule: 'preset: identifier (job_id)' });
    for (const key of ['resume_token', 'nonce', 'ping_nonce', 'next_cursor', 'cursor', 'idempotency_key']) {
      expect(t(['payload', key], 'x')).toEqual({ kind: 'id', rule: `preset: identifier (${key})` });
    }
    expect(t(['payload', 'credentials', '0', 'id'], 'c1')).toEqual({ kind: 'id', rule: 'preset: identifier (credential id)' });
    expect(t(['payload', 'credentials', '0', 'value'], 'v')).toEqual({ kind: 'id', rule: 'preset: identifier (credential value)' });
    // An id nested elsewhere, a value outside credentials, numbers: must be equal.
    expect(t(['payload', 'id'], 'x')).toBeUndefined();
    expect(t(['payload', 'value'], 'x')).toBeUndefined();
    expect(t(['id'], 7)).toBeUndefined();
    expect(t(['payload', 'job_id'], 7)).toBeUndefined();
    expect(t(['payload', 'idx'], 'x')).toBeUndefined();
    expect(t(['payload', 'id_job'], 'x')).toBeUndefined();
  });

  it('bearer tokens, timestamps and redaction placeholders are ignored', () => {
    expect(t(['payload', 'auth', 'token'], 'tk')).toEqual({ kind: 'ignore', rule: 'preset: bearer token' });
    expect(t(['payload', 'token'], 'tk')).toBeUndefined();
    // Only the token and the credential id/value: their siblings must be equal.
    expect(t(['payload', 'auth', 'scheme'], 'bearer')).toBeUndefined();
    expect(t(['payload', 'credentials', '0', 'kind'], 'api_key')).toBeUndefined();
    // A container is not a placeholder, even one holding a single placeholder.
    expect(t(['payload', 'list'], ['[arcp-redacted:1]'])).toBeUndefined();
    for (const key of ['at', 'ts', 'created_at', 'time', 'timestamp', 'expires_after', 'not_before', 'since', 'valid_until', 'start_time']) {
      expect(t(['payload', key], '2026-01-01T00:00:00Z')).toEqual({ kind: 'ignore', rule: `preset: timestamp (${key})` });
    }
    for (const key of ['attempt', 'flat', 'state', 'times', 'sat_x', 'timestamps']) expect(t(['payload', key], 'x')).toBeUndefined();
    expect(t(['payload', 'created_at'], 17)).toBeUndefined(); // a number is compared
    expect(t(['payload', 'text'], '[arcp-redacted:3]')).toEqual({ kind: 'ignore', rule: 'preset: redaction placeholder' });
    expect(t(['payload', 'text'], 'before [arcp-redacted:12] after')).toEqual({ kind: 'ignore', rule: 'preset: redaction placeholder' });
    expect(t(['payload', 'text'], '[arcp-redacted:x]')).toBeUndefined();
  });

  it('session sequence numbers are ignored (gap-freedom is checked instead)', () => {
    expect(t(['payload', 'event_seq'], 4)).toEqual({ kind: 'ignore', rule: 'preset: event_seq (checked per session)' });
    expect(t(['payload', 'event_seq'], '4')).toEqual({ kind: 'ignore', rule: 'preset: event_seq (checked per session)' });
    expect(t(['payload', 'last_event_seq'], 9)).toEqual({ kind: 'ignore', rule: 'preset: session sequence number' });
    expect(t(['payload', 'last_event_seq'], '9')).toBeUndefined();
    expect(t(['payload', 'seq'], 9)).toBeUndefined();
  });

  it('the root and paths with no key are compared', () => {
    expect(t([], 'x')).toBeUndefined();
    expect(t([], 1)).toBeUndefined();
  });

  it('without the preset only user rules apply; user rules come first and match whole paths, * one segment', () => {
    const none = new Volatility({ preset: false, pointers: [] });
    expect(t(['id'], 'msg_1', none)).toBeUndefined();
    expect(t(['payload', 'text'], '[arcp-redacted:1]', none)).toBeUndefined();
    expect(t(['payload', 'event_seq'], 1, none)).toBeUndefined();
    const user = new Volatility({ preset: false, pointers: ['/payload/*/ms', '/id'] });
    expect(t(['payload', 'a', 'ms'], 1, user)).toEqual({ kind: 'ignore', rule: 'user: /payload/*/ms' });
    expect(t(['id'], 'm', user)).toEqual({ kind: 'ignore', rule: 'user: /id' });
    expect(t(['payload', 'a', 'ms', 'x'], 1, user)).toBeUndefined();
    expect(t(['payload', 'ms'], 1, user)).toBeUndefined();
    expect(t(['other', 'a', 'ms'], 1, user)).toBeUndefined();
    expect(t(['payload', 'a', 'mss'], 1, user)).toBeUndefined();
    const both = new Volatility({ preset: true, pointers: ['/payload/job_id'] });
    expect(t(['payload', 'job_id'], 'j', both)).toEqual({ kind: 'ignore', rule: 'user: /payload/job_id' });
    expect(t(['id'], 'm', both)).toEqual({ kind: 'id', rule: 'preset: message id' });
  });

  it('isTimestampKey names points in time only', () => {
    expect(['expires_at', 'ts', 'created_after', 'at'].map(isTimestampKey)).toEqual([true, true, true, true]);
    expect(['status', 'latest', 'tsx', 'xts', 'data'].map(isTimestampKey)).toEqual([false, false, false, false, false]);
  });
});
