import type { ChalkInstance } from 'chalk';
import type { Coverage, ListedCheck } from '../conform/catalog.js';

const pad = (s: string, n: number) => (s.length >= n ? s + ' ' : s + ' '.repeat(n - s.length));

/** `arcp conform list`: one line per check, then what it needs and judges. */
export function listLines(checks: ListedCheck[], c: ChalkInstance): string[] {
  const lines: string[] = [];
  for (const ch of checks) {
    lines.push(`${pad(ch.id, 46)}${pad(ch.level, 7)}${c.dim(pad(ch.suites.join(','), 19))}${ch.title}`);
    const needs = ch.needs ? Object.entries(ch.needs).map(([k, v]) => (Array.isArray(v) ? `${k} ${v.join(', ')}` : k)).join('; ') : ch.scenarios ? `scenarios ${ch.scenarios.join(', ')}` : '';
    lines.push(c.dim(`    judges ${ch.requirements.join(', ')}${needs ? ` · needs ${needs}` : ''}`));
  }
  lines.push('', c.dim(`${checks.length} checks. Run one with --only <id>; globs work (--only 'session/resume/*').`));
  return lines;
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/** `arcp conform coverage`: every requirement, the checks judging it, and the share covered. */
export function coverageLines(cov: Coverage, c: ChalkInstance): string[] {
  const lines = [c.bold(`requirements of ${cov.spec.file} (sha256 ${cov.spec.sha256.slice(0, 12)}…)`), ''];
  for (const r of cov.rows) {
    const q = r.requirement;
    const mark = r.state === 'covered' ? c.green('covered') : r.state === 'not-observable' ? c.dim('not observable') : c.red('UNCOVERED');
    lines.push(`${pad(q.id, 44)}${pad(q.level, 11)}${pad(mark, 16)}${r.state === 'covered' ? c.dim(r.checks.join(', ')) : r.state === 'not-observable' ? c.dim(q.not_observable!) : ''}`);
  }
  const n = cov.counts;
  lines.push('', `${n.requirements} requirements: ${n.covered} judged by checks, ${n.notObservable} not observable on the wire, ${n.uncovered} uncovered.`);
  lines.push(`covered: ${pct(cov.share.all)} of the observable ones (MUST ${pct(cov.share.MUST)}, SHOULD ${pct(cov.share.SHOULD)}, MAY ${pct(cov.share.MAY)})`);
  return lines;
}
