import { once } from 'node:events';
import { Args, Flags } from '@oclif/core';
import { exportHar } from '../../src/tape/interchange/har.js';
import { exportJsonl } from '../../src/tape/interchange/export-jsonl.js';
import { openOutput } from '../../src/tape/interchange/output.js';
import { ArcpCommand } from '../_base.js';

export default class TapeExport extends ArcpCommand {
  static override summary = 'Export a tape as JSONL (capture format) or HAR 1.2 (its HTTP channels)';
  static override description = `--jsonl writes one line per frame in the peer-capture format (plus "kind" and "raw_base64"
where a frame is not ARCP text); \`arcp tape import --jsonl\` reads it back to the same fingerprint.
--har writes the HTTP channels as a HAR 1.2 log for browser dev tools, HAR viewers, MSW and
Polly.js: bodies decoded from their content codings (as HAR says), the request's Host the
upstream's, "_chunks" with the recorded chunk boundaries and timing, "_id"/"_order" as Polly
finds entries (matchRequestsBy headers: false); --polly writes compressed bodies as Polly's
node adapter records them. -o refuses an existing file unless --force.

Exit codes: 0 exported, 2 usage error or not a readable tape.`;
  static override examples = ['<%= config.bin %> tape export tapes/run.tape --jsonl > run.jsonl', '<%= config.bin %> tape export tapes/run.tape --har -o run.har', '<%= config.bin %> tape export tapes/run.tape --har --polly -o recordings/llm_123/recording.har --force'];
  static override args = { tape: Args.string({ description: 'tape file', required: true, ignoreStdin: true }) };
  static override flags = {
    jsonl: Flags.boolean({ description: 'capture-format JSONL, a line per frame', exactlyOne: ['jsonl', 'har'] }),
    har: Flags.boolean({ description: 'HAR 1.2 of the HTTP channels', exactlyOne: ['jsonl', 'har'] }),
    output: Flags.string({ char: 'o', description: 'file to write (default stdout)' }),
    force: Flags.boolean({ description: 'replace the -o file if it exists' }),
    polly: Flags.boolean({ description: 'with --har: compressed bodies as Polly.js records them (base64 chunks)' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TapeExport);
    const out = flags.output ? openOutput(flags.output, flags.force) : process.stdout;
    if (flags.har) {
      const har = exportHar(args.tape, { polly: flags.polly });
      if (!(har as { log: { entries: unknown[] } }).log.entries.length) process.stderr.write(`arcp tape export: ${args.tape} holds no HTTP exchanges; the HAR is empty (nothing was exported)\n`);
      out.write(JSON.stringify(har, null, 2) + '\n');
    }
    else for (const line of exportJsonl(args.tape)) if (!out.write(line + '\n')) await once(out, 'drain');
    if (flags.output) {
      out.end();
      await once(out, 'finish');
    }
  }
}
