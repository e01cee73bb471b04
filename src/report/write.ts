import { renameSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { ToolError } from '../errors.js';
import type { ReportData } from './data.js';
import { reportHtml } from './page.js';

export interface WrittenReport {
  path: string;
  bytes: number;
}

/** Where a report goes by default: beside its tape, `run.tape` → `run.report.html`. */
export const defaultReportPath = (tape: string) => tape.replace(/\.tape$/, '') + '.report.html';

/**
 * Writes the page whole or not at all (a temporary file renamed into place), so a browser
 * reloading it never sees half a report. A report is regenerated freely: an existing file
 * is replaced, never the tape it shows.
 */
export function writeReport(data: ReportData, out: string, protect: string[] = []): WrittenReport {
  const path = resolve(out);
  if (protect.some((p) => resolve(p) === path)) throw new ToolError('E_USAGE', `the report would replace ${out}, which it reports on`, 'name another file with -o (e.g. report.html)');
  const html = reportHtml(data);
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, html);
    renameSync(tmp, path);
  } catch (e) {
    throw new ToolError('E_IO', `cannot write the report ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, `check that the folder of ${basename(out)} exists and is writable`);
  }
  return { path: out, bytes: Buffer.byteLength(html) };
}
