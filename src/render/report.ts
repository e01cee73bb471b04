import type { ChalkInstance } from 'chalk';
import type { TapeReportResult } from '../report/tape-report.js';

const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
const kib = (b: number) => (b < 1024 * 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${(b / 1024 / 1024).toFixed(1)} MiB`);

/** What `arcp report` wrote, in one line, and what was left out to keep it bounded. */
export function reportWrittenLines(r: TapeReportResult, c: ChalkInstance): string[] {
  const lines = [`wrote ${c.bold(r.path)} (${kib(r.bytes)}): ${plural(r.frames, 'frame')} in ${plural(r.lanes, 'lane')}, ${plural(r.jobs, 'job')}, ${plural(r.records, 'record')}; open it in a browser`];
  if (r.clipped || r.textless) lines.push(c.dim(`  to keep the file bounded: ${plural(r.clipped, 'frame')} clipped, ${plural(r.textless, 'frame')} without text (arcp tape show ${r.tape} --frame N shows any frame)`));
  return lines;
}

/** A replay, conformance run or fork family's page, named once written. */
export const reportFileLine = (what: string, w: { path: string; bytes: number }, c: ChalkInstance) => `${what} report: ${c.bold(w.path)} (${kib(w.bytes)})`;
