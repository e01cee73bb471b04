import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_CHECKS, coverage, listChecks } from '../../src/conform/catalog.js';
import { levelOf } from '../../src/conform/check.js';
import { REQUIREMENTS } from '../../src/conform/requirements.js';
import { SCENARIOS } from '../../src/conform/client/scenarios.js';
import { keywordSentences, normalise, specSentences, strongest, tableCells } from '../../src/conform/spec-sentences.js';
import { SPEC_SHA256 } from '../../src/tape/format.js';

const SPEC = readFileSync(join(import.meta.dirname, '../../../shared/spec/draft-arcp-1.1.md'), 'utf8');

describe('the requirements file', () => {
  it("is pinned to the spec text this arcp implements (the tapes' spec_sha256)", () => {
    expect(REQUIREMENTS.spec.sha256).toBe(createHash('sha256').update(SPEC).digest('hex'));
    expect(REQUIREMENTS.spec.sha256).toBe(SPEC_SHA256);
  });

  it('holds every MUST / MUST NOT / SHOULD / SHOULD NOT / MAY sentence of the spec, with its § and level, exactly once, and nothing else of that kind', () => {
    const spec = keywordSentences(SPEC).map((s) => `${s.section} | ${strongest(s.keywords)} | ${s.text}`);
    const file = REQUIREMENTS.requirements.filter((r) => r.kind === 'keyword').map((r) => `${r.section} | ${r.level} | ${r.text}`);
    expect(file).toEqual(spec);
    expect(spec.length).toBeGreaterThan(100);
  });

  it('quotes statements and table rows word for word from the spec', () => {
    const sentences = new Set(specSentences(SPEC).map((s) => `${s.section} ${normalise(s.text)}`));
    const cells = tableCells(SPEC);
    for (const r of REQUIREMENTS.requirements) {
      if (r.kind === 'statement') expect(sentences.has(`${r.section} ${r.text}`), r.id).toBe(true);
      if (r.kind === 'table') {
        const i = cells.indexOf(r.row!);
        expect(i, r.id).toBeGreaterThanOrEqual(0);
        expect(cells[i + 1], r.id).toBe(r.text);
      }
    }
  });

  it('has stable, unique ids of the form <section>/<slug> matching each entry’s section', () => {
    const ids = REQUIREMENTS.requirements.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of REQUIREMENTS.requirements) expect(r.id.split('/')[0]).toBe(r.section);
  });

  it('a requirement marked not observable says why; one with a check is not also marked', () => {
    const judged = new Set(ALL_CHECKS.flatMap((c) => c.requirements));
    for (const r of REQUIREMENTS.requirements.filter((x) => x.not_observable)) {
      expect(r.not_observable!.length, r.id).toBeGreaterThan(20);
      expect(judged.has(r.id), `${r.id} is marked not observable but a check judges it`).toBe(false);
    }
  });

  it('every wire-observable MUST is judged by at least one check (and coverage says so)', () => {
    const cov = coverage();
    const uncovered = cov.rows.filter((r) => r.state === 'uncovered' && r.requirement.level.startsWith('MUST')).map((r) => r.requirement.id);
    expect(uncovered).toEqual([]);
    expect(cov.share.MUST).toBe(1);
    expect(cov.counts.covered + cov.counts.notObservable + cov.counts.uncovered).toBe(REQUIREMENTS.requirements.length);
  });

  it('every observable requirement of any level has a check (the share is 100 %)', () => {
    expect(coverage().rows.filter((r) => r.state === 'uncovered').map((r) => r.requirement.id)).toEqual([]);
  });
});

describe('the checks', () => {
  it('have unique hierarchical ids, judge known requirements, and describe themselves', () => {
    const ids = ALL_CHECKS.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const c of ALL_CHECKS) {
      expect(c.id, c.id).toMatch(/^[a-z0-9-]+(\/[a-z0-9.-]+)+$/);
      expect(c.requirements.length, c.id).toBeGreaterThan(0);
      for (const r of c.requirements) expect(REQUIREMENTS.requirements.some((q) => q.id === r), `${c.id} → ${r}`).toBe(true);
      expect(c.description.length, c.id).toBeGreaterThan(30);
      expect(['MUST', 'SHOULD', 'MAY']).toContain(levelOf(c));
    }
  });

  it('client checks name scenarios that exist, and every scenario is judged', () => {
    const names = SCENARIOS.map((s) => s.name);
    const used = new Set(ALL_CHECKS.flatMap((c) => (c.kind === 'client' ? c.scenarios : [])));
    for (const s of used) expect(names).toContain(s);
    for (const s of names.filter((n) => n !== 'ack' && n !== 'ack-not-negotiated')) expect(used.has(s), s).toBe(true);
  });

  it('list splits them into the three suites', () => {
    const server = listChecks('server').map((c) => c.id);
    const client = listChecks('client').map((c) => c.id);
    const tape = listChecks('tape').map((c) => c.id);
    expect(server).toContain('session/resume/gap-free-replay');
    expect(server).toContain('wire/seq/gap-free');
    expect(server).not.toContain('client/hello/shape');
    expect(client).toContain('client/resume/after-drop');
    expect(client).toContain('wire/ack/within-delivered');
    expect(client).not.toContain('wire/seq/gap-free');
    expect(tape.every((id) => id.startsWith('wire/'))).toBe(true);
    expect(tape).toContain('wire/forms/draft');
  });
});
