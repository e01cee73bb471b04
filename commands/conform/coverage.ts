import { coverage } from '../../src/conform/catalog.js';
import { coverageLines } from '../../src/render/conform-list.js';
import { styleFor } from '../../src/render/style.js';
import { ArcpCommand } from '../_base.js';

export default class ConformCoverage extends ArcpCommand {
  static override summary = 'Every requirement of the spec, the checks that judge it, and the share covered';
  static override description = `Reads the requirements file (every MUST / MUST NOT / SHOULD / SHOULD NOT / MAY sentence of the
v1.1 draft, pinned to its sha256) and prints, per requirement, the checks that judge it or why
nothing on the wire can.

Exit codes: 0 printed, 2 usage error.`;
  static override examples = ['<%= config.bin %> conform coverage', "<%= config.bin %> conform coverage --json | jq '.share'"];

  async run(): Promise<void> {
    const { flags } = await this.parse(ConformCoverage);
    const cov = coverage();
    if (flags.json) this.emitJson('arcp-conform-coverage/1', cov);
    else process.stdout.write(coverageLines(cov, styleFor(process.stdout)).join('\n') + '\n');
  }
}
