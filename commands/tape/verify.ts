import { Args, Flags } from '@oclif/core';
import { verifyTape } from '../../src/tape/verify.js';
import { verifyAttestation } from '../../src/records/attest.js';
import { verifyLines } from '../../src/render/tape.js';
import { attestationLines } from '../../src/render/records.js';
import { styleFor } from '../../src/render/style.js';
import { liveJson } from '../../src/render/json/cased.js';
import { ArcpCommand } from '../_base.js';

export default class TapeVerify extends ArcpCommand {
  static override summary = 'Check a tape: fingerprint, every blob hash, no holes in the frame log';
  static override description = `Recomputes the fingerprint and compares it with the one sealed at the end of recording,
re-hashes every blob, and checks the frame log is complete. A tape whose recorder was killed
(no seal) still verifies if what was written is intact; it is reported as unsealed.

With --signature FILE --pubkey PUB it also checks an attestation (\`arcp tape attest\`): the
Ed25519 signature, then the tape's bytes, fingerprint and meta, and the records file it covers
(--records, default the one named in the attestation, beside it), naming what changed.

Exit codes: 0 intact, 1 problems found (or the attestation does not hold), 2 not a readable tape.`;
  static override examples = [
    '<%= config.bin %> tape verify tapes/run.tape',
    '<%= config.bin %> tape verify tapes/run.tape --json',
    '<%= config.bin %> tape verify tapes/run.tape --signature tapes/run.tape.attestation.json --pubkey arcp-signing.pub',
  ];
  static override args = { tape: Args.string({ description: 'tape file', required: true, ignoreStdin: true }) };
  static override flags = {
    signature: Flags.string({ description: 'attestation file to check (arcp tape attest)', dependsOn: ['pubkey'] }),
    pubkey: Flags.string({ description: 'public key (PEM) of the signer', dependsOn: ['signature'] }),
    records: Flags.string({ description: 'records file the attestation covers', dependsOn: ['signature'] }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TapeVerify);
    const r = verifyTape(args.tape);
    const a = flags.signature ? verifyAttestation({ tape: args.tape, signature: flags.signature, pubkey: flags.pubkey!, records: flags.records }) : undefined;
    const c = styleFor(process.stdout);
    const { live, ...withoutLive } = r;
    if (flags.json) this.emitJson('arcp-tape-verify/1', { ...withoutLive, ...liveJson(live), ...(a ? { attestation: a } : {}) });
    else process.stdout.write([...verifyLines(r, c), ...(a ? attestationLines(a, c) : [])].join('\n') + '\n');
    if (!r.ok || (a && !a.ok)) this.exit(1);
  }
}
