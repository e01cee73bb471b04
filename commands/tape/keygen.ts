import { Flags } from '@oclif/core';
import { generateKeyFiles } from '../../src/records/keys.js';
import { keygenLines } from '../../src/render/records.js';
import { styleFor } from '../../src/render/style.js';
import { ArcpCommand } from '../_base.js';

export default class TapeKeygen extends ArcpCommand {
  static override summary = 'Make an Ed25519 key pair for signing tapes (arcp tape attest)';
  static override description = `Writes PREFIX.key (the private key, PKCS#8 PEM, mode 0600: only you can read it) and
PREFIX.pub (the public key, SPKI PEM, to give whoever verifies). Keys are yours: arcp keeps no
copy and puts nothing of them into tapes.

Exit codes: 0 made, 2 a file exists (use --force) or cannot be written.`;
  static override examples = ['<%= config.bin %> tape keygen', '<%= config.bin %> tape keygen --out ~/.config/arcp/signing'];
  static override flags = {
    out: Flags.string({ char: 'o', description: 'path prefix of the two files', default: 'arcp-signing' }),
    force: Flags.boolean({ description: 'replace an existing pair' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(TapeKeygen);
    const k = generateKeyFiles(flags.out, flags.force);
    if (flags.json) this.emitJson('arcp-tape-keygen/1', k);
    else process.stdout.write(keygenLines(k, styleFor(process.stdout)).join('\n') + '\n');
  }
}
