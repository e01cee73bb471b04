import { Flags } from '@oclif/core';
import { listChecks } from '../../src/conform/catalog.js';
import { listLines } from '../../src/render/conform-list.js';
import { styleFor } from '../../src/render/style.js';
import { ArcpCommand } from '../_base.js';

export default class ConformList extends ArcpCommand {
  static override summary = 'List the conformance checks: id, level, suites, what each judges and needs';
  static override description = 'Exit codes: 0 listed, 2 usage error.';
  static override examples = ['<%= config.bin %> conform list', '<%= config.bin %> conform list --client', "<%= config.bin %> conform list --server --json | jq -r '.[].id'"];
  static override flags = {
    server: Flags.boolean({ description: 'only the checks `conform server` runs', exclusive: ['client', 'tape'] }),
    client: Flags.boolean({ description: 'only the checks `conform client` runs', exclusive: ['server', 'tape'] }),
    tape: Flags.boolean({ description: 'only the checks `conform tape` runs', exclusive: ['server', 'client'] }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ConformList);
    const checks = listChecks(flags.server ? 'server' : flags.client ? 'client' : flags.tape ? 'tape' : undefined);
    if (flags.json) this.emitJson('arcp-conform-list/1', { checks });
    else process.stdout.write(listLines(checks, styleFor(process.stdout)).join('\n') + '\n');
  }
}
