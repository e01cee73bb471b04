import type { ConformReport } from '../conform/report.js';
import { reportData } from './page.js';
import { writeReport, type WrittenReport } from './write.js';

/**
 * `arcp conform … --report FILE`: every check's verdict grouped by the spec § it judges, each
 * failure with its finding and the tape of its exchange (which `arcp report` opens).
 */
export function writeConformReport(r: ConformReport, out: string): WrittenReport {
  const bySection = new Map<string, ConformReport['checks']>();
  for (const c of r.checks) for (const s of c.sections.length ? c.sections : ['(no §)']) bySection.set(s, [...(bySection.get(s) ?? []), c]);
  const order = (s: string) => s.split('.').map((n) => Number.parseInt(n, 10) || 0);
  const sections = [...bySection.entries()]
    .sort(([a], [b]) => {
      const x = order(a);
      const y = order(b);
      for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? -1) !== (y[i] ?? -1)) return (x[i] ?? -1) - (y[i] ?? -1);
      return 0;
    })
    .map(([section, checks]) => ({
      section,
      title: `${checks.length} check${checks.length === 1 ? '' : 's'}`,
      results: checks.map((c) => {
        const bad = c.findings.filter((f) => f.outcome === 'fail' || f.outcome === 'warning');
        return {
          id: c.id,
          verdict: c.status,
          title: `${c.level} ${c.title}`,
          ...(c.status !== 'pass' ? { detail: [c.reason, ...bad.map((f) => `${f.requirement}: ${f.message}`)].join('\n') } : {}),
          ...((bad.find((f) => f.tape)?.tape ?? c.tape) ? { tape: bad.find((f) => f.tape)?.tape ?? c.tape } : {}),
          seqs: bad.flatMap((f) => f.seqs ?? []),
        };
      }),
    }));
  const s = r.summary;
  const summary = `${r.mode} ${r.target}: ${s.pass} pass, ${s.fail} fail, ${s.warning} warning, ${s.skipped} skipped${s.expected ? `, ${s.expected} expected failures` : ''}${r.ok ? '' : ' (not ok)'}`;
  return writeReport(reportData({ title: `arcp conform ${r.mode}: ${r.target}`, conform: { summary, sections } }), out);
}
