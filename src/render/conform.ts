import type { ChalkInstance } from 'chalk';
import type { CheckResult, ConformReport } from '../conform/report.js';
import { compareSections, sectionTitle } from '../conform/requirements.js';

const GLYPH: Record<CheckResult['status'], string> = { pass: '✓', fail: '✗', warning: '!', info: 'i', skipped: '-' };

function paint(c: ChalkInstance, s: CheckResult['status'], text: string): string {
  return s === 'pass' ? c.green(text) : s === 'fail' ? c.red(text) : s === 'warning' ? c.yellow(text) : c.dim(text);
}

/** Checks grouped by the first § they judge, in section order. */
export function bySection(checks: CheckResult[]): [string, CheckResult[]][] {
  const groups = new Map<string, CheckResult[]>();
  for (const ch of checks) {
    const s = ch.sections[0] ?? '-';
    groups.set(s, [...(groups.get(s) ?? []), ch]);
  }
  return [...groups].sort(([a], [b]) => compareSections(a, b));
}

const MODE: Record<ConformReport['mode'], string> = { server: 'server (the suite plays the client)', client: 'client (the suite plays the runtime)', tape: 'recorded traffic' };

/** The human summary: one line per check under its §, the reasons and evidence of what did not pass. */
export function reportLines(r: ConformReport, c: ChalkInstance, o: { verbose?: boolean } = {}): string[] {
  const lines = [c.bold(`arcp conform ${r.mode}: ${r.target}`), c.dim(`  ${MODE[r.mode]} · ARCP ${r.spec.version} (spec sha256 ${r.spec.sha256.slice(0, 12)}…)${r.strict ? ' · --strict' : ''}`), ''];
  for (const n of r.notes) lines.push(n.level === 'warning' ? c.yellow(`warning: ${n.message}`) : c.dim(`note: ${n.message}`));
  if (r.notes.length) lines.push('');
  for (const [section, checks] of bySection(r.checks)) {
    lines.push(c.bold(`§${section} ${sectionTitle(section)}`));
    for (const ch of checks) {
      const tag = ch.baseline === 'expected' ? c.dim(' (expected failure)') : ch.baseline === 'stale' ? c.red(' (listed as expected to fail, but did not: stale)') : '';
      lines.push(`  ${paint(c, ch.status, GLYPH[ch.status])} ${paint(c, ch.status, ch.status.padEnd(7))} ${ch.id}${tag} ${c.dim(`${ch.level} · ${ch.durationMs} ms`)}`);
      if (ch.status === 'pass' && !o.verbose) continue;
      lines.push(c.dim(`      ${ch.title}`));
      lines.push(`      ${ch.reason}`);
      const shown = ch.findings.filter((f) => o.verbose || (f.outcome !== 'pass' && f.outcome !== 'info') || ch.status === 'info');
      for (const f of shown.slice(0, o.verbose ? 50 : 6)) {
        if (f.message === ch.reason && shown.length === 1) break;
        const where = f.seqs?.length ? c.dim(` [seq ${f.seqs.slice(0, 6).join(', ')}${f.tape && f.tape !== ch.tape ? ` of ${f.tape}` : ''}]`) : '';
        lines.push(`      ${paint(c, f.outcome, f.outcome.padEnd(7))} ${c.dim(f.requirement)} ${f.message}${where}`);
      }
      if (shown.length > 6 && !o.verbose) lines.push(c.dim(`      … ${shown.length - 6} more (--verbose or --json)`));
      if (ch.tape && ch.status !== 'pass') lines.push(c.dim(`      tape ${ch.tape}${ch.records ? `, records ${ch.records}` : ''}`));
    }
    lines.push('');
  }
  const s = r.summary;
  const parts = [c.green(`${s.pass} passed`), s.fail ? c.red(`${s.fail} failed`) : `${s.fail} failed`, s.warning ? c.yellow(`${s.warning} warnings`) : `${s.warning} warnings`, `${s.info} info`, `${s.skipped} skipped`];
  if (s.expected) parts.push(`${s.expected} expected failures`);
  if (s.stale) parts.push(c.red(`${s.stale} stale expected failures`));
  lines.push(`${r.ok ? c.green('conformant') : c.red('not conformant')}: ${parts.join(', ')} in ${(r.durationMs / 1000).toFixed(1)} s`);
  if (r.tapes) lines.push(c.dim(`tapes in ${r.tapes} (open one with \`arcp tape show <tape>\`, replay it with \`arcp replay <tape>\`)`));
  if (r.records) {
    const failed = r.records.filter((a) => 'error' in a);
    lines.push(c.dim(`records of ${r.records.length - failed.length} tapes beside them (<tape>.records.json; check one with \`arcp tape records --verify <records> <tape>\`)`));
    for (const a of failed) if ('error' in a) lines.push(c.yellow(`no records of ${a.tape}: ${a.error}`));
  }
  return lines;
}

/** One progress line on stderr as checks finish. */
export const progressLine = (done: number, id: string, c: ChalkInstance): string => c.dim(`conform: ${done} done, last ${id}`);
