import { describe, expect, it } from 'vitest';
import { ArcpError } from '../../src/engine/errors.js';
import { authorize, BudgetCounters, deriveChildLease, globMatch, parseAmount, patternCovers, validateExpiresAt } from '../../src/engine/lease.js';

const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as ArcpError).code;
  }
  return 'ok';
};

describe('lease grammar and matching (§9.1–§9.3)', () => {
  it.each([
    ['/workspace/app/**', '/workspace/app/src/a.ts', 'fs.read', true],
    ['/workspace/app/**', '/workspace/app', 'fs.read', true],
    ['/workspace/app/*', '/workspace/app/src/a.ts', 'fs.read', false],
    ['/workspace/app/*.ts', '/workspace/app/a.ts', 'fs.read', true],
    ['/workspace/app', '/workspace/app2', 'fs.read', false],
    ['stats.*', 'stats.summarize', 'tool.call', true],
    ['stats.*', 'shell.exec', 'tool.call', false],
    ['mcp:github/*', 'mcp:github/issues', 'tool.call', true],
    ['https://api.example.com/**', 'https://api.example.com/v1/x', 'net.fetch', true],
    ['https://api.example.com/**', 'https://evil.com/api.example.com/', 'net.fetch', false],
    ['tier-fast/*', 'tier-fast/small', 'model.use', true],
    ['anthropic/claude-3-haiku-*', 'anthropic/claude-3-haiku-2024', 'model.use', true],
    ['anthropic/claude-3-haiku-*', 'anthropic/claude-3-opus-2024', 'model.use', false],
  ])('%s matches %s (%s): %s', (p, t, ns, want) => expect(globMatch(p, t, ns)).toBe(want));

  it.each([
    ['/workspace/app/**', '/workspace/app/tests/**', true],
    ['/workspace/app/**', '/etc/**', false],
    ['/workspace/*/src', '/workspace/app/src', true],
    ['/workspace/app/*', '/workspace/app/**', false],
    ['**', '/anything/**', true],
  ])('%s covers %s: %s', (o, i, want) => expect(patternCovers(o, i, 'fs.read')).toBe(want));

  it('enforces expiry, then budget, then coverage', () => {
    const lease = { 'tool.call': ['search.*'], 'cost.budget': ['USD:1.00'] };
    const budget = new BudgetCounters(lease);
    expect(code(() => authorize({ lease, budget }, 'tool.call', 'search.web'))).toBe('ok');
    expect(code(() => authorize({ lease, budget }, 'tool.call', 'shell.exec'))).toBe('PERMISSION_DENIED');
    budget.charge('USD', 0.3);
    budget.charge('USD', 0.3);
    budget.charge('USD', 0.3);
    expect(budget.toJSON()).toEqual({ USD: 0.1 });
    expect(budget.charge('USD', -5)).toBeUndefined();
    budget.charge('USD', 0.3);
    expect(budget.toJSON().USD).toBeCloseTo(-0.2, 10);
    expect(code(() => authorize({ lease, budget }, 'tool.call', 'search.web'))).toBe('BUDGET_EXHAUSTED');
    expect(code(() => authorize({ lease, budget, expiresAt: Date.now() - 1 }, 'tool.call', 'search.web'))).toBe('LEASE_EXPIRED');
  });

  it('parses amounts and rejects bad ones', () => {
    expect(parseAmount('USD:5.00')).toEqual({ currency: 'USD', micros: 5_000_000 });
    expect(parseAmount('credits:1000').micros).toBe(1_000_000_000);
    expect(code(() => parseAmount('USD5'))).toBe('INVALID_REQUEST');
  });

  it('validates expires_at (§9.5)', () => {
    expect(code(() => validateExpiresAt(new Date(Date.now() + 60_000).toISOString()))).toBe('ok');
    expect(code(() => validateExpiresAt(new Date(Date.now() - 60_000).toISOString()))).toBe('INVALID_REQUEST');
    expect(code(() => validateExpiresAt('2099-01-01T00:00:00+02:00'))).toBe('INVALID_REQUEST');
    expect(code(() => validateExpiresAt('tomorrow'))).toBe('INVALID_REQUEST');
  });

  it('derives child leases under §9.4', () => {
    const lease = { 'fs.read': ['/workspace/app/**'], 'agent.delegate': ['child'], 'cost.budget': ['USD:5.00'], 'model.use': ['tier-fast/*'] };
    const budget = new BudgetCounters(lease);
    budget.charge('USD', 3);
    const parentExpiry = Date.now() + 60_000;
    const parent = { lease, budget, expiresAt: parentExpiry };
    const ok = deriveChildLease(parent, { 'fs.read': ['/workspace/app/tests/**'], 'cost.budget': ['USD:2.00'] }, undefined);
    expect(ok.expiresAt).toBe(parentExpiry);
    expect(code(() => deriveChildLease(parent, { 'fs.write': ['/etc/**'] }, undefined))).toBe('LEASE_SUBSET_VIOLATION');
    expect(code(() => deriveChildLease(parent, { 'cost.budget': ['USD:2.01'] }, undefined))).toBe('LEASE_SUBSET_VIOLATION');
    expect(code(() => deriveChildLease(parent, { 'model.use': ['tier-slow/*'] }, undefined))).toBe('LEASE_SUBSET_VIOLATION');
    const later = new Date(parentExpiry + 1000).toISOString();
    expect(code(() => deriveChildLease(parent, {}, { expires_at: later }))).toBe('LEASE_SUBSET_VIOLATION');
    const earlier = new Date(parentExpiry - 1000).toISOString();
    expect(deriveChildLease(parent, {}, { expires_at: earlier }).expiresAt).toBe(Date.parse(earlier));
  });
});
