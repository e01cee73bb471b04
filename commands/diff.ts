import { Args, Flags } from '@oclif/core';
import { diffAny } from '../src/fork/diff.js';
import { familyLines } from '../src/render/fork.js';
import { reportLines } from '../src/render/replay.js';
import { styleFor } from '../src/render/style.js';
import { diffJson } from '../src/render/json/cased.js';
import { ArcpCommand } from './_base.js';

export default class Diff extends ArcpCommand {
  static override summary = 'The first divergence between two recordings (for a fork: the fork point, then what changed)';
  static override description = `Pairs the tapes' channels in order and compares their frames in order, by the same rules
as replay: exact, except the ARCP volatile preset and --volatile pointers; identifiers of the
first tape are mapped to the second's and must stay consistent.
When one tape is a fork of the other (\`arcp fork\`; either order), it reports the fork point
first (step and edit, from the child's lineage), then the first step after it where the child
differs, then a summary of what changed: events by kind, each job's tool calls, each job's result.

Exit codes: 0 equivalent, 1 divergence (a fork that changed anything), 2 usage error or unreadable tape.`;
  static override examples = ['<%= config.bin %> diff tapes/before.tape tapes/after.tape', '<%= config.bin %> diff tapes/run.tape tapes/run.fork1.tape', '<%= config.bin %> diff a.tape b.tape --continue --json', '<%= config.bin %> diff a.tape b.tape --volatile /payload/body/duration_ms'];
  static override args = { a: Args.string({ description: 'first tape', required: true, ignoreStdin: true }), b: Args.string({ description: 'second tape', required: true, ignoreStdin: true }) };
  static override flags = {
    volatile: Flags.string({ description: 'JSON pointer whose value may differ (repeatable; * matches any key)', multiple: true, default: [] }),
    preset: Flags.boolean({ description: 'the built-in ARCP volatile preset', default: true, allowNo: true }),
    continue: Flags.boolean({ description: 'collect every divergence' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Diff);
    const { family, plain } = diffAny(args.a, args.b, { volatile: { preset: flags.preset, pointers: flags.volatile }, keepGoing: flags.continue });
    const c = styleFor(process.stdout);
    if (flags.json) this.emitJson('arcp-diff/1', diffJson(args.a, args.b, { family, plain }));
    else process.stdout.write((family ? familyLines(family, c) : reportLines(plain!, c, { a: args.a, b: args.b })).join('\n') + '\n');
    if (family ? family.firstDivergence || family.beforeFork.length : !plain!.ok) this.exit(1);
  }
}
