import { describe, expect, it } from 'vitest';
import { parseAgentRef, resolveAgent } from '../../src/engine/agent-ref.js';
import { negotiate } from '../../src/engine/negotiate.js';
import { ArcpError, NORMATIVE_RETRYABLE, RETRYABLE } from '../../src/engine/errors.js';

const inv = [
  { name: 'refactor', versions: ['1.0.0', '2.0.0'], default: '2.0.0' },
  { name: 'echo', versions: [] },
  { name: 'multi', versions: ['a', 'b'] },
];
const codeOf = (f: () => unknown) => {
  try { f(); return 'ok'; } catch (e) { return (e as ArcpError).code; }
};

describe('agent versioning (§7.5)', () => {
  it('parses the grammar', () => {
    expect(parseAgentRef('refactor@1.0.0')).toEqual({ name: 'refactor', version: '1.0.0' });
    expect(parseAgentRef('a.b_c-d')).toEqual({ name: 'a.b_c-d' });
    expect(codeOf(() => parseAgentRef('Bad_Name'))).toBe('INVALID_REQUEST');
    expect(codeOf(() => parseAgentRef('x@'))).toBe('INVALID_REQUEST');
    expect(codeOf(() => parseAgentRef('x@1 0'))).toBe('INVALID_REQUEST');
  });
  it('resolves defaults, pins and misses', () => {
    expect(resolveAgent({ name: 'refactor' }, inv)).toEqual({ name: 'refactor', version: '2.0.0' });
    expect(resolveAgent({ name: 'refactor', version: '1.0.0' }, inv).version).toBe('1.0.0');
    expect(resolveAgent({ name: 'echo' }, inv)).toEqual({ name: 'echo' });
    expect(resolveAgent({ name: 'multi' }, inv).version).toBe('b');
    expect(codeOf(() => resolveAgent({ name: 'refactor', version: '3.0.0' }, inv))).toBe('AGENT_VERSION_NOT_AVAILABLE');
    expect(codeOf(() => resolveAgent({ name: 'nope' }, inv))).toBe('AGENT_NOT_AVAILABLE');
  });
});

describe('negotiation (§6.2) and taxonomy (§12)', () => {
  it('intersects, absent means none', () => {
    expect([...negotiate(['progress', 'heartbeat', 'bogus'], ['heartbeat', 'ack', 'progress'])]).toEqual(['heartbeat', 'progress']);
    expect(negotiate(undefined, ['heartbeat']).size).toBe(0);
  });
  it('keeps the normative retryable values', () => {
    for (const [c, v] of Object.entries(NORMATIVE_RETRYABLE)) expect(RETRYABLE[c as keyof typeof RETRYABLE]).toBe(v);
    expect(new ArcpError('BUDGET_EXHAUSTED', 'x').toBody()).toEqual({ code: 'BUDGET_EXHAUSTED', message: 'x', retryable: false });
  });
});
