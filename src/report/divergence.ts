import type { ReplayReport } from '../replay/report.js';
import { boundedJson } from '../replay/preview.js';
import { reportData } from './page.js';
import { tapeView } from './tape.js';
import { writeReport, type WrittenReport } from './write.js';

/** Frames either side of the divergence the page shows. */
const AROUND = 40;
const MAX = 64 * 1024;

/**
 * `arcp replay … --report FILE`: the first divergence, expected (the tape) beside actual (the
 * live side), on the timeline of the frames around it, selected when the page opens. A clean
 * run gets the same page, saying so, with the whole tape.
 */
export function writeDivergenceReport(r: ReplayReport, out: string): WrittenReport {
  const d = r.divergences[0];
  const at = d && d.seq > 0 ? d.seq : undefined;
  const headline = d ? `${d.reason}: ${d.message}` : r.incomplete ? `incomplete: ${r.incomplete}` : `no divergence over ${r.frames.replayed} of ${r.frames.total} frames`;
  const fields = d?.fields.filter((f) => !f.tolerated) ?? [];
  const view = tapeView(r.tape, at !== undefined ? { fromSeq: Math.max(1, at - AROUND), toSeq: at + AROUND, records: false } : {});
  const data = reportData({
    title: `arcp replay: ${r.tape}${d ? ' diverged' : ''}`,
    tape: view,
    divergence: {
      ok: r.ok,
      headline,
      ...(at !== undefined ? { seq: at } : {}),
      ...(fields.length ? { path: fields.map((f) => f.pointer).join(', ') } : {}),
      ...(d ? { reason: `${r.divergences.length} divergence${r.divergences.length === 1 ? '' : 's'} in all; on channel ${d.channel} (${d.dir})${fields.length ? `, ${fields.map((f) => `${f.pointer}: ${JSON.stringify(f.expected)} → ${JSON.stringify(f.actual)}`).join('; ')}` : ''}` } : {}),
      expected: d?.expected ?? null,
      actual: d?.actual ?? null,
      outcome: boundedJson(r, MAX).text,
    },
  });
  return writeReport(data, out, [r.tape]);
}
