import { Args } from '@oclif/core';
import { verifyTape } from '../../src/tape/verify.js';
import { verifyLines } from '../../src/render/tape.js';
import { styleFor } from '../../src/render/style.js';
import { ArcpCommand } from '../_base.js';

export default class TapeVerify extends ArcpCommand {
  static override summary = 'Check a tape: fingerprint, every blob hash, no holes in the frame log';
  static override description = `Recomputes the fingerprint and compares it with the one sealed at the end of recording,
re-hashes every blob, and checks the frame log is complete. A tape whose recorder was killed
(no seal) still verifies if what was written is intact; it is reported as unsealed.

Exit codes: 0 intact, 1 problems found, 2 not a readable tape.`;
  static override examples = ['<%= config.bin %> tape verify tapes/run.tape', '<%= config.bin %> tape verify tapes/run.tape --json'];
  static override args = { tape: Args.string({ description: 'tape file', required: true, ignoreStdin: true }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TapeVerify);
    const r = verifyTape(args.tape);
    if (flags.json) this.emitJson(r);
    else process.stdout.write(verifyLines(r, styleFor(process.stdout)).join('\n') + '\n');
    if (!r.ok) this.exit(1);
  }
}
