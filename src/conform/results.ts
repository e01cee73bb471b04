import { readFileSync } from 'node:fs';
import { ToolError } from '../errors.js';
import { SPEC_SHA256, SPEC_VERSION } from '../tape/format.js';
import { TOOL_VERSION } from '../tape/paths.js';
import { levelOf, sectionsOf, type AnyCheck } from './check.js';
import { attachTapeRecords } from './records.js';
import { REPORT_FORMAT, type CheckResult, type ConformReport } from './report.js';
import { overall, type Finding, type Outcome } from './verdict.js';

/** `*` matches any run of characters (slashes included), `?` one character. */
export function globRegex(glob: string): RegExp {
  return new RegExp('^' + glob.split('').map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('') + '$');
}

/** `--only` / `--skip`: a check runs when it matches some --only (or there is none) and no --skip. */
export function selectChecks<C extends { id: string }>(checks: C[], only: string[] = [], skip: string[] = []): C[] {
  const o = only.map(globRegex);
  const s = skip.map(globRegex);
  const picked = checks.filter((c) => (o.length === 0 || o.some((r) => r.test(c.id))) && !s.some((r) => r.test(c.id)));
  if (!picked.length) {
    const said = ['no check matches', only.length ? `--only ${only.join(' ')}` : '', skip.length ? `--skip ${skip.join(' ')}` : ''];
    throw new ToolError('E_USAGE', said.filter(Boolean).join(' '), '`arcp conform list` shows the check ids');
  }
  return picked;
}

/**
 * An expected-failures file: one check id or glob per line, `#` starts a comment (a JSON array of
 * ids also works). Listed checks that fail do not fail the run; a listed check that does not fail
 * is stale and does, so the baseline shrinks as fixes land.
 */
export function readExpectedFailures(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ToolError('E_INPUT', `cannot read --expected-failures ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'name a file with one check id per line');
  }
  if (text.trimStart().startsWith('[')) {
    try {
      const v: unknown = JSON.parse(text);
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
    } catch {
      // fall through to the error below
    }
    throw new ToolError('E_INPUT', `--expected-failures ${path} is not a JSON array of check ids`, 'or write one check id per line');
  }
  // Split at '#', not a regex to the line's end: a CRLF file's lines end in \r, which `.` and `$` stop at.
  return text
    .split('\n')
    .map((l) => l.split('#', 1)[0].trim())
    .filter(Boolean);
}

export interface RawResult {
  check: AnyCheck;
  findings: Finding[];
  /** Why it was skipped (needs, precondition), when it was. */
  skipped?: string;
  tape?: string;
  durationMs: number;
}

export interface FinishOptions {
  mode: ConformReport['mode'];
  target: string;
  startedAt: Date;
  strict?: boolean;
  expectedFailures?: string[];
  tapes?: string;
  notes?: ConformReport['notes'];
  /** Write the records of every cited tape beside it (--records). */
  records?: boolean;
  /** Tapes the run read besides those its checks cite (`conform tape` over several). */
  readTapes?: string[];
}

function reasonOf(status: Outcome, findings: Finding[], skipped?: string): string {
  if (skipped) return skipped;
  const pick = (o: Outcome) => findings.find((f) => f.outcome === o);
  const f = pick(status) ?? findings[0];
  if (!f) return 'nothing to judge';
  const more = findings.filter((x) => x.outcome === status).length - 1;
  return `${f.message}${more > 0 ? ` (+${more} more)` : ''}`;
}

/** Applies --strict and the expected-failures baseline, counts, and builds the report. */
export function finish(raw: RawResult[], o: FinishOptions): ConformReport {
  const expected = o.expectedFailures ?? [];
  const patterns = expected.map((e) => ({ e, re: globRegex(e) }));
  for (const p of patterns) {
    if (!raw.some((r) => p.re.test(r.check.id))) throw new ToolError('E_INPUT', `expected failure "${p.e}" names no check of this run`, 'fix the id (see `arcp conform list`) or remove the line');
  }
  const checks: CheckResult[] = raw.map((r) => {
    const rawStatus: Outcome = r.skipped ? 'skipped' : overall(r.findings);
    let status = rawStatus;
    let reason = reasonOf(rawStatus, r.findings, r.skipped);
    if (o.strict && status === 'skipped') {
      status = 'fail';
      reason = `skipped, which --strict fails: ${reason}`;
    }
    if (o.strict && r.findings.some((f) => f.deviation) && status !== 'fail') {
      status = 'fail';
      reason = `--strict fails deviations from the draft: ${r.findings.find((f) => f.deviation)!.message}`;
    }
    const result: CheckResult = {
      id: r.check.id,
      kind: r.check.kind,
      title: r.check.title,
      level: levelOf(r.check),
      requirements: r.check.requirements,
      sections: sectionsOf(r.check),
      status,
      raw: rawStatus,
      reason,
      findings: r.findings,
      durationMs: Math.round(r.durationMs),
    };
    if (r.tape) result.tape = r.tape;
    if (patterns.some((p) => p.re.test(r.check.id))) result.baseline = status === 'fail' ? 'expected' : 'stale';
    return result;
  });
  const count = (s: Outcome) => checks.filter((c) => c.status === s && c.baseline !== 'expected').length;
  const summary = {
    pass: count('pass'),
    fail: count('fail'),
    warning: count('warning') + (o.notes ?? []).filter((n) => n.level === 'warning').length,
    info: count('info'),
    skipped: count('skipped'),
    expected: checks.filter((c) => c.baseline === 'expected').length,
    stale: checks.filter((c) => c.baseline === 'stale').length,
  };
  const report: ConformReport = {
    format: REPORT_FORMAT,
    tool: { name: 'arcp', version: TOOL_VERSION },
    spec: { version: SPEC_VERSION, sha256: SPEC_SHA256 },
    mode: o.mode,
    target: o.target,
    startedAt: o.startedAt.toISOString(),
    durationMs: Date.now() - o.startedAt.getTime(),
    strict: Boolean(o.strict),
    notes: o.notes ?? [],
    summary,
    ok: summary.fail === 0 && summary.stale === 0,
    checks,
  };
  if (o.tapes) report.tapes = o.tapes;
  if (o.records) {
    const cited = [...(o.readTapes ?? []), ...checks.flatMap((c) => [c.tape, ...c.findings.map((f) => f.tape)])].filter((t): t is string => t !== undefined);
    report.records = attachTapeRecords(cited.sort());
    const files = new Map(report.records.flatMap((a) => ('file' in a ? [[a.tape, a.file] as const] : [])));
    for (const c of checks) if (c.tape && files.has(c.tape)) c.records = files.get(c.tape);
  }
  return report;
}
