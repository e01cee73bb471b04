import type { CheckResult, ConformReport } from '../conform/report.js';
import { sectionTitle } from '../conform/requirements.js';
import { bySection } from './conform.js';

const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[ch]!).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

function details(ch: CheckResult): string {
  const lines = [ch.title, `requirements: ${ch.requirements.join(', ')}`];
  for (const f of ch.findings) lines.push(`${f.outcome} ${f.requirement}: ${f.message}${f.seqs?.length ? ` [seq ${f.seqs.join(', ')}]` : ''}`);
  if (ch.tape) lines.push(`tape: ${ch.tape}`);
  return lines.join('\n');
}

function testcase(ch: CheckResult): string {
  const head = `    <testcase classname="${esc(ch.id.split('/').slice(0, -1).join('.'))}" name="${esc(ch.id)}" time="${(ch.durationMs / 1000).toFixed(3)}">`;
  const body: string[] = [];
  if (ch.baseline === 'expected') body.push(`      <skipped message="${esc(`expected failure: ${ch.reason}`)}"/>`);
  else if (ch.baseline === 'stale') body.push(`      <failure type="stale-expected-failure" message="${esc(`listed in --expected-failures but ${ch.status}: remove it from the list`)}">${esc(details(ch))}</failure>`);
  else if (ch.status === 'fail') body.push(`      <failure type="${ch.level}" message="${esc(ch.reason)}">${esc(details(ch))}</failure>`);
  else if (ch.status === 'skipped') body.push(`      <skipped message="${esc(ch.reason)}"/>`);
  if (ch.status === 'warning' || ch.status === 'info' || ch.tape) body.push(`      <system-out>${esc(`${ch.status}: ${ch.reason}\n${details(ch)}`)}</system-out>`);
  return body.length ? `${head}\n${body.join('\n')}\n    </testcase>` : head.replace(/>$/, '/>');
}

/** JUnit XML: one testsuite per §, one testcase per check; warnings and info in system-out. */
export function junitXml(r: ConformReport): string {
  const count = (cs: CheckResult[]) => ({
    tests: cs.length,
    failures: cs.filter((c) => (c.status === 'fail' && c.baseline !== 'expected') || c.baseline === 'stale').length,
    skipped: cs.filter((c) => (c.status === 'skipped' || c.baseline === 'expected') && c.baseline !== 'stale').length,
  });
  const all = count(r.checks);
  const suites = bySection(r.checks).map(([section, cs]) => {
    const n = count(cs);
    return `  <testsuite name="${esc(`§${section} ${sectionTitle(section)}`)}" tests="${n.tests}" failures="${n.failures}" errors="0" skipped="${n.skipped}" time="${(cs.reduce((t, c) => t + c.durationMs, 0) / 1000).toFixed(3)}">\n${cs.map(testcase).join('\n')}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${esc(`arcp conform ${r.mode} ${r.target}`)}" tests="${all.tests}" failures="${all.failures}" errors="0" skipped="${all.skipped}" time="${(r.durationMs / 1000).toFixed(3)}">\n${suites.join('\n')}\n</testsuites>\n`;
}
