import { Args, Flags } from '@oclif/core';
import { writeFamilyReport } from '../../src/report/family.js';
import { reportFileLine } from '../../src/render/report.js';
import { tapeTree } from '../../src/fork/tree.js';
import { treeLines } from '../../src/render/fork.js';
import { styleFor } from '../../src/render/style.js';
import { treeJson } from '../../src/render/json/cased.js';
import { ArcpCommand } from '../_base.js';

export default class TapeTree extends ArcpCommand {
  static override summary = 'The tapes of a folder as a family tree: forks under their parents, with fork points, edits and outcomes';
  static override description = `A fork (\`arcp fork\`) hangs under the tape its lineage names (by fingerprint, so renamed
tapes still link). Each line shows where it was forked, the edit, whether it was continued
live, and how its jobs ended. --json prints the tree as one object.

Exit codes: 0 shown, 2 the folder cannot be read.`;
  static override examples = ['<%= config.bin %> tape tree', '<%= config.bin %> tape tree tapes/ --json', '<%= config.bin %> tape tree tapes/ --report family.html'];
  static override args = { dir: Args.string({ description: 'folder of tapes', default: 'tapes', ignoreStdin: true }) };
  static override flags = { report: Flags.string({ description: 'also write the family as one HTML page to FILE (see arcp report)' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TapeTree);
    const tree = tapeTree(args.dir);
    if (flags.report) process.stderr.write(reportFileLine('fork family', writeFamilyReport(tree, flags.report), styleFor(process.stderr)) + '\n');
    if (flags.json) this.emitJson('arcp-tape-tree/1', treeJson(tree));
    else process.stdout.write(treeLines(tree, styleFor(process.stdout)).join('\n') + '\n');
  }
}
