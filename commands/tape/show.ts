import { Args, Flags } from '@oclif/core';
import { showTape } from '../../src/tape/inspect.js';
import { showHeaderLines, timelineLine } from '../../src/render/tape.js';
import { styleFor } from '../../src/render/style.js';
import { ArcpCommand } from '../_base.js';

export default class TapeShow extends ArcpCommand {
  static override summary = 'Show a tape: header, channels and a timeline of frames';
  static override description = `The timeline lists each frame: seq, time since start, channel, direction (→ client to
runtime, ← runtime to client, · transport), the ARCP message type and event kind (or the HTTP
line, SSE events, transport event), size and flags. --json prints NDJSON: a header object,
then one object per frame.

Exit codes: 0 shown, 2 not a readable tape.`;
  static override examples = ['<%= config.bin %> tape show tapes/run.tape', '<%= config.bin %> tape show tapes/run.tape --channel 2 --limit 50', '<%= config.bin %> tape show tapes/run.tape --json | jq .what'];
  static override args = { tape: Args.string({ description: 'tape file', required: true, ignoreStdin: true }) };
  static override flags = {
    channel: Flags.integer({ char: 'c', description: 'only this channel' }),
    from: Flags.integer({ description: 'start at this seq', min: 1 }),
    limit: Flags.integer({ char: 'n', description: 'at most this many frames', min: 0 }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TapeShow);
    const view = showTape(args.tape, { channel: flags.channel, fromSeq: flags.from, limit: flags.limit });
    try {
      const c = styleFor(process.stdout);
      if (flags.json) this.emitJson({ path: view.path, meta: view.meta, channels: view.channels });
      else process.stdout.write(showHeaderLines(view, c).join('\n') + '\n');
      const channels = new Map(view.channels.map((ch) => [ch.id, ch]));
      for (const row of view.timeline) {
        if (flags.json) this.emitJson(row);
        else process.stdout.write(timelineLine(row, c, channels) + '\n');
      }
    } finally {
      view.close();
    }
  }
}
