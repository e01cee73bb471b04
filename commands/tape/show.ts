import { Args, Flags } from '@oclif/core';
import { tapeSteps } from '../../src/fork/steps.js';
import { showTape } from '../../src/tape/inspect.js';
import { rowLink, stepLines, stepsJson } from '../../src/render/steps.js';
import { showHeaderLines, timelineLine } from '../../src/render/tape.js';
import { styleFor } from '../../src/render/style.js';
import { ArcpCommand } from '../_base.js';

export default class TapeShow extends ArcpCommand {
  static override summary = 'Show a tape: header, channels and a timeline of frames';
  static override description = `The timeline lists each frame: seq, time since start, channel, direction (→ client to
runtime, ← runtime to client, · transport), the ARCP message type and event kind (or the HTTP
line, SSE events, transport event), size and flags. Before it, the steps: each job with its
events and the HTTP exchanges it caused (linked by the arcp-job-id header or the traceparent
the request carried), each with the address \`arcp fork --at\` takes. --json prints NDJSON: a
header object (with jobs and steps), then one object per frame (with its step and job).

Exit codes: 0 shown, 2 not a readable tape.`;
  static override examples = ['<%= config.bin %> tape show tapes/run.tape', '<%= config.bin %> tape show tapes/run.tape --channel 2 --limit 50', '<%= config.bin %> tape show tapes/run.tape --json | jq .what'];
  static override args = { tape: Args.string({ description: 'tape file', required: true, ignoreStdin: true }) };
  static override flags = {
    channel: Flags.integer({ char: 'c', description: 'only this channel' }),
    from: Flags.integer({ description: 'start at this seq', min: 1 }),
    limit: Flags.integer({ char: 'n', description: 'at most this many frames', min: 0 }),
    steps: Flags.boolean({ description: 'list jobs and their step addresses (--no-steps skips reading every frame for them)', default: true, allowNo: true }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TapeShow);
    const view = showTape(args.tape, { channel: flags.channel, fromSeq: flags.from, limit: flags.limit });
    try {
      const c = styleFor(process.stdout);
      const steps = flags.steps ? tapeSteps(args.tape) : undefined;
      if (flags.json) this.emitJson({ path: view.path, meta: view.meta, channels: view.channels, ...(steps ? stepsJson(steps) : {}) });
      else {
        const head = showHeaderLines(view, c);
        // The steps go before the timeline's heading (the header's last line).
        process.stdout.write([...head.slice(0, -1), ...(steps ? stepLines(steps, c) : []), head[head.length - 1]].join('\n') + '\n');
      }
      const channels = new Map(view.channels.map((ch) => [ch.id, ch]));
      for (const row of view.timeline) {
        if (flags.json) this.emitJson(steps ? { ...row, ...rowLink(steps, row.seq) } : row);
        else process.stdout.write(timelineLine(row, c, channels) + '\n');
      }
    } finally {
      view.close();
    }
  }
}
