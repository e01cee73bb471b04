import { Flags } from '@oclif/core';
import type { ConformReport } from '../../src/conform/report.js';
import { readExpectedFailures } from '../../src/conform/results.js';
import { writeReportFiles } from '../../src/render/conform-files.js';
import { progressLine, reportLines } from '../../src/render/conform.js';
import { jsonLine } from '../../src/render/json/emit.js';
import { styleFor } from '../../src/render/style.js';
import { reportFileLine } from '../../src/render/report.js';
import { writeConformReport } from '../../src/report/conform.js';

/** Flags every `arcp conform` run shares (oclif skips `_*` files). */
export const resultFlags = {
  only: Flags.string({ description: 'run only checks whose id matches this glob (repeatable)', multiple: true, default: [] }),
  skip: Flags.string({ description: 'leave out checks whose id matches this glob (repeatable)', multiple: true, default: [] }),
  strict: Flags.boolean({ description: 'count skipped checks and "deviates from draft" / "v1.0 form" warnings as failures' }),
  'expected-failures': Flags.string({ description: 'file of check ids expected to fail (one a line, # comments): they do not fail the run; a listed check that passes does (stale)' }),
  junit: Flags.string({ description: 'also write JUnit XML to FILE' }),
  report: Flags.string({ description: 'also write an HTML page of the results by spec § to FILE, each failure with its exchange' }),
  markdown: Flags.string({ description: 'also write a CONFORMANCE.md table (requirement, §, level, status, evidence) to FILE' }),
  records: Flags.boolean({ description: "also write the execution records of each check's tape beside it (<tape>.records.json, as `arcp tape records`) and list them in the report" }),
  verbose: Flags.boolean({ char: 'v', description: 'show every finding, passes included' }),
};

export const liveFlags = {
  jobs: Flags.integer({ char: 'j', description: 'checks (or scenarios) run at once', default: 6, min: 1, max: 64 }),
  timeout: Flags.integer({ description: 'seconds one check may take (default 30), or one client scenario, its start included (default 60)', min: 1 }),
  tapes: Flags.string({ description: "folder for every check's tape (default: a fresh temp folder, named in the summary)" }),
};

export const expected = (path?: string): string[] | undefined => (path ? readExpectedFailures(path) : undefined);

/** A stderr progress line per finished check, on a terminal only. */
export function progress(enabled: boolean): { onCheck: (id: string) => void; done: () => void } {
  const err = process.stderr;
  if (!enabled || !err.isTTY) return { onCheck: () => undefined, done: () => undefined };
  let n = 0;
  const c = styleFor(err);
  return { onCheck: (id) => err.write(`\r\u001b[2K${progressLine(++n, id, c)}`), done: () => err.write('\r\u001b[2K') };
}

/** Writes what was asked for (--json, --junit, --markdown, the summary) and returns the exit code. */
export function emit(r: ConformReport, flags: { json: boolean; junit?: string; markdown?: string; report?: string; verbose?: boolean }): number {
  writeReportFiles(r, flags);
  if (flags.report) process.stderr.write(reportFileLine('conformance', writeConformReport(r, flags.report), styleFor(process.stderr)) + '\n');
  if (flags.json) process.stdout.write(jsonLine('arcp-conform-report/1', r));
  else process.stdout.write(reportLines(r, styleFor(process.stdout), { verbose: flags.verbose }).join('\n') + '\n');
  return r.ok ? 0 : 1;
}
