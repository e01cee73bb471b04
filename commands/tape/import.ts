import { basename, join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { Args, Flags } from '@oclif/core';
import { importJsonl } from '../../src/tape/interchange/import-jsonl.js';
import { importHar } from '../../src/tape/interchange/import-har.js';
import { redactionRules } from '../../src/record/recorder.js';
import { recordedWhole, summaryLines } from '../../src/render/record.js';
import { styleFor } from '../../src/render/style.js';
import { ArcpCommand } from '../_base.js';

export default class TapeImport extends ArcpCommand {
  static override summary = 'Import a JSONL capture (peer-capture format, or tape export --jsonl), or a HAR, as a tape';
  static override description = `Each connection becomes a channel, each line's "raw" the frame's exact bytes, meta lines
transport events; original times are kept. --har reads a HAR 1.2 log (browser dev tools,
mitmproxy, Polly.js, tape export --har): an HTTP exchange per entry, replayable with
\`arcp replay TAPE --http-port N\`. Secrets are redacted as when recording, unless --no-redact.

Exit codes: 0 imported, 1 imported with losses (the disk refused frames: the tape records the
gap), 2 usage or input error (the message names the bad line).`;
  static override examples = ['<%= config.bin %> tape import --jsonl ../shared/fixtures/peer-captures/cancel.jsonl', '<%= config.bin %> tape import --jsonl run.jsonl --tape tapes/run-copy.tape --force', '<%= config.bin %> tape import --har session.har --tape tapes/browser.tape'];
  static override args = { file: Args.string({ description: 'JSONL capture file', required: true, ignoreStdin: true }) };
  static override flags = {
    jsonl: Flags.boolean({ description: 'the input is JSONL (the default)', exclusive: ['har'] }),
    har: Flags.boolean({ description: 'the input is a HAR 1.2 log', exclusive: ['jsonl'] }),
    tape: Flags.string({ char: 'o', description: 'tape to write (default tapes/<file>.tape)' }),
    force: Flags.boolean({ description: 'replace the tape if it exists' }),
    redact: Flags.boolean({ description: 'redact secrets (--no-redact keeps them)', default: true, allowNo: true }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TapeImport);
    const tape = flags.tape ?? join('tapes', basename(args.file).replace(/\.(jsonl?|har)$/, '') + '.tape');
    if (!flags.tape) mkdirSync('tapes', { recursive: true });
    const o = { source: args.file, tape, force: flags.force, redaction: redactionRules({ redact: flags.redact }), commandLine: ['arcp', 'tape', 'import', ...this.argv] };
    const s = flags.har ? await importHar(o) : await importJsonl(o);
    if (flags.json) this.emitJson('arcp-tape-import/1', s);
    else process.stdout.write(summaryLines(s, styleFor(process.stdout)).join('\n') + '\n');
    if (!recordedWhole(s)) this.exit(1);
  }
}
