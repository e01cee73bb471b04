import { Args } from '@oclif/core';
import { scanTape } from '../../src/tape/scan.js';
import { scanLines } from '../../src/render/tape.js';
import { styleFor } from '../../src/render/style.js';
import { ArcpCommand } from '../_base.js';

export default class TapeScan extends ArcpCommand {
  static override summary = 'Report secret-looking strings left in a tape';
  static override description = `Looks for bearer tokens and credential values in clear (the fields redaction covers by
default), Authorization/API-key/cookie headers, and known key shapes (sk-…, AKIA…, ghp_…,
xox…-, AIza…, JWTs, private keys). Secrets are shown masked. Run it before sharing a tape.

Exit codes: 0 clean, 1 secrets found, 2 not a readable tape.`;
  static override examples = ['<%= config.bin %> tape scan tapes/run.tape', '<%= config.bin %> tape scan tapes/run.tape --json'];
  static override args = { tape: Args.string({ description: 'tape file', required: true, ignoreStdin: true }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TapeScan);
    const r = scanTape(args.tape);
    if (flags.json) this.emitJson('arcp-tape-scan/1', r);
    else process.stdout.write(scanLines(r.path, r.frames, r.findings, styleFor(process.stdout)).join('\n') + '\n');
    if (r.findings.length) this.exit(1);
  }
}
