import { Args } from '@oclif/core';
import { listTapes } from '../../src/tape/inspect.js';
import { listingLines } from '../../src/render/tape.js';
import { styleFor } from '../../src/render/style.js';
import { listingJson } from '../../src/render/json/cased.js';
import { ArcpCommand } from '../_base.js';

export default class TapeLs extends ArcpCommand {
  static override summary = 'List the tapes in a folder';
  static override description = 'One line per .tape file: start time, frames, channels, size, fingerprint (or "unsealed").\n\nExit codes: 0 listed, 2 the folder cannot be read.';
  static override examples = ['<%= config.bin %> tape ls', '<%= config.bin %> tape ls tapes --json'];
  static override args = { dir: Args.string({ description: 'folder to list', default: 'tapes', ignoreStdin: true }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TapeLs);
    const rows = listTapes(args.dir);
    if (flags.json) this.emitJson('arcp-tape-ls/1', { dir: args.dir, tapes: rows.map(listingJson) });
    else process.stdout.write(listingLines(args.dir, rows, styleFor(process.stdout)).join('\n') + '\n');
  }
}
