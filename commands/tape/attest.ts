import { Args, Flags } from '@oclif/core';
import { attestTape } from '../../src/records/attest.js';
import { attestLines } from '../../src/render/records.js';
import { styleFor } from '../../src/render/style.js';
import { ArcpCommand } from '../_base.js';

export default class TapeAttest extends ArcpCommand {
  static override summary = 'Sign a tape (and its records) with your Ed25519 key: a detached attestation';
  static override description = `Writes an attestation file (default TAPE.attestation.json) holding a statement and its
Ed25519 signature. The statement covers the tape's fingerprint and exact bytes (sha256), its
meta (spec hash, tool version, start and end, the redaction summary: counts and a digest,
never a rule's text) and, with --records, the records file's sha256; the records must be the
tape's own (they are derived again and compared first). Nothing is written into the tape.
Check it with \`arcp tape verify TAPE --signature FILE --pubkey PUB\`.

Exit codes: 0 attested, 1 the records do not match the tape, 2 usage or input error (a key
others can read, a live tape, a file that exists).`;
  static override examples = [
    '<%= config.bin %> tape attest tapes/run.tape --key arcp-signing.key',
    '<%= config.bin %> tape attest tapes/run.tape --key arcp-signing.key --records run.records.json --out run.attestation.json',
  ];
  static override args = { tape: Args.string({ description: 'tape file', required: true, ignoreStdin: true }) };
  static override flags = {
    key: Flags.string({ char: 'k', description: 'private key (PEM) from `arcp tape keygen`', required: true }),
    records: Flags.string({ char: 'r', description: 'records file of this tape to cover too (`arcp tape records TAPE -o FILE`)' }),
    out: Flags.string({ char: 'o', description: 'attestation file to write (default TAPE.attestation.json)' }),
    force: Flags.boolean({ description: 'replace the attestation file if it exists' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TapeAttest);
    const r = attestTape({ tape: args.tape, key: flags.key, records: flags.records, out: flags.out, force: flags.force });
    if (flags.json) this.emitJson('arcp-tape-attest/1', r);
    else process.stdout.write(attestLines(r.path, r.attestation, styleFor(process.stdout)).join('\n') + '\n');
  }
}
