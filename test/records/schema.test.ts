import { describe, expect, it } from 'vitest';
import { ArcpRecord, ExecutionEvent } from '../../src/records/schema.js';

/**
 * The record schema holds IntentProof's ExecutionEvent v1 constraints (its normative schema and
 * invariants: no undocumented keys, output on ok and never error, error on error, flat
 * primitive attributes, durationMs the span): each broken event is refused.
 */
const ok = {
  id: 'r1',
  intent: 'Collect payment for the cart',
  action: 'stripe.payment_intent.confirm',
  status: 'ok',
  inputs: { amount: 1299 },
  output: { chargeId: 'ch_1' },
  startedAt: '2026-05-04T12:00:00.000Z',
  completedAt: '2026-05-04T12:00:00.042Z',
  durationMs: 42,
  correlationId: 'job_1',
  attributes: { region: 'us-east-1', sampleRate: 1 },
};
const failed = { ...ok, status: 'error', output: undefined, error: { name: 'ValidationError', message: 'amount must be positive', code: 'invalid_amount', stack: null, cause: { name: 'RangeError', message: 'min exclusive 0' } } };

describe('the records schema (IntentProof ExecutionEvent v1)', () => {
  it('takes the shapes of IntentProof\'s own example events', () => {
    expect(ExecutionEvent.safeParse(ok).success).toBe(true);
    const { output: _o, ...err } = failed;
    expect(ExecutionEvent.safeParse(err).success).toBe(true);
  });

  it.each([
    ['an ok event with an error', { ...ok, error: { name: 'E', message: 'x' } }],
    ['an ok event without output', (() => { const { output: _o, ...e } = ok; return e; })()],
    ['an error event without error', { ...ok, status: 'error' }],
    ['a status outside ok|error', { ...ok, status: 'success' }],
    ['an undocumented key', { ...ok, evidence: {} }],
    ['an attribute that is an object', { ...ok, attributes: { lease: { 'fs.read': ['/x'] } } }],
    ['an attribute key with a space', { ...ok, attributes: { 'my key': 1 } }],
    ['durationMs that is not the span', { ...ok, durationMs: 41 }],
    ['completedAt before startedAt', { ...ok, completedAt: '2026-05-04T11:59:59.000Z', durationMs: 0 }],
    ['a correlationId with spaces around it', { ...ok, correlationId: ' job_1 ' }],
    ['an empty intent', { ...ok, intent: '' }],
    ['inputs that are not an object', { ...ok, inputs: [1, 2] }],
    ['an error without a name', { ...failed, output: undefined, error: { message: 'x' } }],
    ['an error whose stack is not a string or null', { ...failed, output: undefined, error: { ...failed.error, stack: 42 } }],
    ['an error whose cause has no name', { ...failed, output: undefined, error: { ...failed.error, cause: { message: 'deeper' } } }],
    ['an error whose cause carries an undocumented key', { ...failed, output: undefined, error: { ...failed.error, cause: { name: 'E', message: 'x', frames: [] } } }],
  ])('refuses %s', (_what, event) => {
    expect(ExecutionEvent.safeParse(JSON.parse(JSON.stringify(event))).success).toBe(false);
  });

  it('a record carries evidence for the tape it names, frames by seq and sha256', () => {
    const evidence = { tape: `fp1:${'a'.repeat(64)}`, fields: { output: [{ seq: 3, sha256: 'b'.repeat(64), pointer: '/payload/result' }] } };
    expect(ArcpRecord.safeParse({ kind: 'job', event: ok, evidence }).success).toBe(true);
    expect(ArcpRecord.safeParse({ kind: 'job', event: ok, evidence: { ...evidence, fields: { output: [] } } }).success).toBe(false);
    expect(ArcpRecord.safeParse({ kind: 'job', event: ok, evidence: { ...evidence, fields: { output: [{ seq: 0, sha256: 'b'.repeat(64) }] } } }).success).toBe(false);
    expect(ArcpRecord.safeParse({ kind: 'job', event: ok, evidence: { ...evidence, tape: 'fp1:short' } }).success).toBe(false);
  });
});
