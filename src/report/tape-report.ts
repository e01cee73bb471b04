import type { ReportData } from './data.js';
import { reportData } from './page.js';
import { tapeView, type TapeViewOptions } from './tape.js';
import { defaultReportPath, writeReport, type WrittenReport } from './write.js';

export interface TapeReportResult extends WrittenReport {
  tape: string;
  frames: number;
  lanes: number;
  jobs: number;
  records: number;
  /** Frames whose text the page holds clipped / not at all (the byte budget). */
  clipped: number;
  textless: number;
}

export const tapeReportData = (tape: string, o: TapeViewOptions = {}): ReportData => reportData({ title: `arcp report: ${tape}`, tape: tapeView(tape, o) });

/** `arcp report TAPE`: the tape as one HTML page, written to `out` (beside the tape by default). */
export function writeTapeReport(tape: string, out = defaultReportPath(tape), o: TapeViewOptions = {}): TapeReportResult {
  const data = tapeReportData(tape, o);
  const v = data.tape!;
  const w = writeReport(data, out, [tape]);
  return { ...w, tape, frames: v.frameCount, lanes: v.lanes.length, jobs: v.jobs.length, records: v.jobs.reduce((n, j) => n + j.records.length, v.unowned.length), clipped: v.limits.clipped, textless: v.limits.textless };
}
