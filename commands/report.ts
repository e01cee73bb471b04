import { Args, Flags } from '@oclif/core';
import { writeTapeReport } from '../src/report/tape-report.js';
import { reportWrittenLines } from '../src/render/report.js';
import { styleFor } from '../src/render/style.js';
import { ArcpCommand } from './_base.js';

export default class Report extends ArcpCommand {
  static override summary = 'A tape as one HTML page to look at: a timeline per channel, jobs, LLM calls, records, every frame';
  static override description = `Writes one self-contained HTML file (no network, nothing fetched): a timeline with one
lane per channel (each ARCP connection, stdio session and HTTP exchange) with SSE chunks on
the time axis; the jobs with their events, the LLM calls each caused and its execution
records, each record's evidence linked to its frames; and every frame in a searchable list,
a click showing its bytes (pretty JSON; redacted values are the tape's placeholders).

Big tapes stay usable: lists draw only what is in view, and each frame's text is clipped
(--frame-chars) within a budget for the whole page (--budget); past it a frame keeps its
one-line summary and the page names the command that shows it. An existing report file is
replaced.

Exit codes: 0 written, 2 not a readable tape or the file cannot be written.`;
  static override examples = [
    '<%= config.bin %> report tapes/run.tape                 # writes tapes/run.report.html',
    '<%= config.bin %> report tapes/run.tape -o report.html',
    '<%= config.bin %> report tapes/big.tape --budget 8000000 --json',
  ];
  static override args = { tape: Args.string({ description: 'tape file', required: true, ignoreStdin: true }) };
  static override flags = {
    out: Flags.string({ char: 'o', description: 'the HTML file to write (default: beside the tape, NAME.report.html)' }),
    'frame-chars': Flags.integer({ description: 'characters of one frame kept in the page', default: 2048, min: 64 }),
    budget: Flags.integer({ description: 'characters of frame and record text the page holds in all', default: 24 * 1024 * 1024, min: 0 }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Report);
    const r = writeTapeReport(args.tape, flags.out, { frameChars: flags['frame-chars'], budget: flags.budget });
    if (flags.json) this.emitJson('arcp-report-written/1', r);
    else process.stderr.write(reportWrittenLines(r, styleFor(process.stderr)).join('\n') + '\n');
  }
}
