import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConformReport } from '../../src/conform/report.js';
import { pool } from '../../src/conform/runner.js';
import { BROKEN_RUNTIMES } from './peers/broken-runtimes.js';
import { StrangerRuntime } from './peers/stranger-runtime.js';
import { notPassing, suiteAgainst, worseThan } from './helpers.js';


let faithful: ConformReport;
const runs = new Map<string, ConformReport>();
const rows: string[] = [];


beforeAll(async () => {
  faithful = await suiteAgainst(StrangerRuntime);
  await pool(BROKEN_RUNTIMES, 5, async (b) => {
    runs.set(b.name, await suiteAgainst(b.make));
  });
}, 400_000);

afterAll(() => {
  if (!rows.length) return;
  const w = Math.max(...BROKEN_RUNTIMES.map((b) => b.name.length));
  console.log(['broken runtime matrix (each a one-method variation of the stranger runtime):', ...rows.map((r) => `  ${r.split('\t')[0].padEnd(w)}  ${r.split('\t').slice(1).join('  ')}`)].join('\n'));
});

describe('the server suite against runtimes written for the tests', () => {
  it('the faithful stranger (the reference SDK’s forms) fails nothing; its only warnings name the forms the draft does not use', () => {
    expect(faithful.summary.fail, notPassing(faithful).join('\n')).toBe(0);
    const warned = faithful.checks.filter((c) => c.status === 'warning');
    expect(warned.length).toBeGreaterThan(0);
    for (const c of warned) for (const f of c.findings.filter((x) => x.outcome === 'warning')) expect(f.deviation, `${c.id}: ${f.message}`).toBeDefined();
    expect(faithful.checks.filter((c) => c.status === 'skipped').map((c) => c.id)).toEqual([]);
  });

  it(`there are at least 25 broken runtimes and each breaks a different rule`, () => {
    expect(BROKEN_RUNTIMES.length).toBeGreaterThanOrEqual(25);
    expect(new Set(BROKEN_RUNTIMES.map((b) => b.name)).size).toBe(BROKEN_RUNTIMES.length);
  });

  for (const b of BROKEN_RUNTIMES) {
    it(`${b.name} (${b.breaks}) is caught by ${b.caughtBy.join(', ')} and by nothing else`, () => {
      const r = runs.get(b.name)!;
      const got = worseThan(faithful, r);
      const ids = got.map((c) => c.id).sort();
      rows.push(`${b.name}\t${ids.map((id) => `${id} ${got.find((c) => c.id === id)!.status}`).join(', ') || 'NOT CAUGHT'}${ids.join() === [...b.caughtBy].sort().join() ? '' : `  (expected ${b.caughtBy.join(', ')})`}`);
      expect(ids, got.map((c) => `${c.id}: ${c.reason}`).join('\n')).toEqual([...b.caughtBy].sort());
      // Caught for the reason meant: the finding names the broken rule's requirement.
      for (const c of got) expect(c.findings.some((f) => f.outcome === c.status && c.requirements.includes(f.requirement))).toBe(true);
    });
  }
});
