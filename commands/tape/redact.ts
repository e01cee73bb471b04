import { Args, Flags } from '@oclif/core';
import { redactionRules } from '../../src/record/recorder.js';
import { summaryLines } from '../../src/render/record.js';
import { styleFor } from '../../src/render/style.js';
import { redactTape } from '../../src/tape/copy.js';
import { ArcpCommand } from '../_base.js';

export default class TapeRedact extends ArcpCommand {
  static override summary = 'Redact a recorded tape into a new one, with the same rules as record time';
  static override description = `Writes every frame of TAPE into --out through the recorder's own redaction: the default
rules (bearer tokens, credential values, auth and cookie headers, credential query parameters)
plus --pointer, --header, --query and --regex, applied to frames, heads, URLs and HTTP bodies,
compressed ones included (decoded, redacted, compressed again). Placeholders already in the
tape stay; the new tape replays like the old one. For a secret found by \`arcp tape scan\` after
recording, instead of re-recording.

Exit codes: 0 written, 2 usage or input error.`;
  static override examples = [
    "<%= config.bin %> tape redact tapes/run.tape --pointer /payload/input/api_key --out tapes/run.clean.tape",
    "<%= config.bin %> tape redact tapes/llm.tape --regex 'sk-proj-[A-Za-z0-9_-]{20,}' --header x-goog-api-key --out tapes/llm.clean.tape",
  ];
  static override args = { tape: Args.string({ description: 'tape to redact', required: true, ignoreStdin: true }) };
  static override flags = {
    out: Flags.string({ char: 'o', description: 'tape to write', required: true }),
    force: Flags.boolean({ description: 'replace --out if it exists' }),
    pointer: Flags.string({ description: 'redact this JSON pointer in frames and JSON bodies; * matches any key (repeatable)', multiple: true, default: [] }),
    header: Flags.string({ description: 'redact this HTTP header (repeatable)', multiple: true, default: [] }),
    query: Flags.string({ description: 'redact this URL query parameter (repeatable)', multiple: true, default: [] }),
    regex: Flags.string({ description: 'redact text matching this regular expression, URLs and paths included (repeatable)', multiple: true, default: [] }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TapeRedact);
    const rules = redactionRules({ pointers: flags.pointer, headers: flags.header, regexes: flags.regex, query: flags.query });
    const s = await redactTape(args.tape, flags.out, rules, { force: flags.force, commandLine: ['arcp', 'tape', 'redact', ...this.argv] });
    if (flags.json) this.emitJson('arcp-tape-redact/1', s);
    else process.stdout.write(summaryLines(s, styleFor(process.stdout)).join('\n') + '\n');
  }
}
