import { Args, Flags } from '@oclif/core';
import { diffTapes } from '../src/replay/diff.js';
import { reportLines } from '../src/render/replay.js';
import { styleFor } from '../src/render/style.js';
import { ArcpCommand } from './_base.js';

export default class Diff extends ArcpCommand {
  static override summary = 'The first divergence between two recordings';
  static override description = `Pairs the tapes' channels in order and compares their frames in order, by the same rules
as replay: exact, except the ARCP volatile preset and --volatile pointers; identifiers of the
first tape are mapped to the second's and must stay consistent.

Exit codes: 0 equivalent, 1 divergence, 2 usage error or unreadable tape.`;
  static override examples = ['<%= config.bin %> diff tapes/before.tape tapes/after.tape', '<%= config.bin %> diff a.tape b.tape --continue --json', '<%= config.bin %> diff a.tape b.tape --volatile /payload/body/duration_ms'];
  static override args = { a: Args.string({ description: 'first tape', required: true, ignoreStdin: true }), b: Args.string({ description: 'second tape', required: true, ignoreStdin: true }) };
  static override flags = {
    volatile: Flags.string({ description: 'JSON pointer whose value may differ (repeatable; * matches any key)', multiple: true, default: [] }),
    preset: Flags.boolean({ description: 'the built-in ARCP volatile preset', default: true, allowNo: true }),
    continue: Flags.boolean({ description: 'collect every divergence' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Diff);
    const report = diffTapes(args.a, args.b, { volatile: { preset: flags.preset, pointers: flags.volatile }, keepGoing: flags.continue });
    if (flags.json) this.emitJson(report);
    else process.stdout.write(reportLines(report, styleFor(process.stdout)).join('\n') + '\n');
    if (!report.ok) this.exit(1);
  }
}
