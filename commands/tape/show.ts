import { Args, Flags } from '@oclif/core';
import { frameFilter, hasFilter } from '../../src/tape/filter.js';
import { showTape } from '../../src/tape/inspect.js';
import { showBodies, showFrame } from '../../src/tape/payload.js';
import { textconvLines } from '../../src/tape/textconv.js';
import { exchangeLines, frameViewLines, noMatchLine, showHeaderLines, timelineLine } from '../../src/render/tape.js';
import { tapeSteps } from '../../src/fork/steps.js';
import { rowLink, stepLines, stepsJson } from '../../src/render/steps.js';
import { styleFor } from '../../src/render/style.js';
import { liveJson } from '../../src/render/json/cased.js';
import { ArcpCommand } from '../_base.js';

export default class TapeShow extends ArcpCommand {
  static override summary = 'Show a tape: header, channels and a timeline of frames; a frame or HTTP bodies in full';
  static override description = `The timeline lists each frame: seq, time since start, channel, direction (→ client to
runtime, ← runtime to client, · transport), the ARCP message type and event kind (or the HTTP
line, SSE events, transport event), size and flags. Before it, the steps: each job with its
events and the HTTP exchanges it caused (linked by the arcp-job-id header or the traceparent
the request carried), each with the address \`arcp fork --at\` takes. --json prints NDJSON: a
header object (with jobs and steps), then one object per frame (with its step and job).

--frame N prints one frame's payload: JSON pretty-printed, compressed bodies decoded, SSE as
its event stream with the text the model streamed. --body prints each HTTP exchange's request
and response bodies the same way. Filters, as mitmproxy's ~u ~m ~c ~b: --route, --method,
--status (429 or 4xx) pick HTTP exchanges; --kind (http.* , ws.text) and --grep (text in a
frame, or in an exchange's decoded bodies) pick frames.

--textconv prints the whole tape as diffable text (times left out, bodies decoded) for git:
  .gitattributes:  *.tape diff=arcp-tape
  git config diff.arcp-tape.textconv "arcp tape show --textconv"

Exit codes: 0 shown, 2 not a readable tape, or no such frame.`;
  static override examples = [
    '<%= config.bin %> tape show tapes/run.tape',
    '<%= config.bin %> tape show tapes/run.tape --channel 2 --limit 50',
    '<%= config.bin %> tape show tapes/run.tape --frame 17',
    '<%= config.bin %> tape show tapes/run.tape --body --route /openai --status 2xx',
    '<%= config.bin %> tape show tapes/run.tape --grep rate_limit --kind "http.*"',
    '<%= config.bin %> tape show tapes/run.tape --json | jq .what',
  ];
  static override args = { tape: Args.string({ description: 'tape file', required: true, ignoreStdin: true }) };
  static override flags = {
    channel: Flags.integer({ char: 'c', description: 'only this channel' }),
    from: Flags.integer({ description: 'start at this seq', min: 1 }),
    limit: Flags.integer({ char: 'n', description: 'at most this many frames', min: 0 }),
    steps: Flags.boolean({ description: 'list jobs and their step addresses (--no-steps skips reading every frame for them)', default: true, allowNo: true }),
    frame: Flags.integer({ description: "print this frame's payload in full", min: 1, exclusive: ['body', 'textconv'] }),
    body: Flags.boolean({ description: "print HTTP exchanges' request and response bodies", exclusive: ['frame', 'textconv'] }),
    route: Flags.string({ description: 'only HTTP exchanges under this route or path prefix' }),
    method: Flags.string({ description: 'only HTTP exchanges with this method' }),
    status: Flags.string({ description: 'only HTTP exchanges with this status (429) or class (4xx)' }),
    kind: Flags.string({ description: 'only frames of this kind (* as a wildcard: http.*)' }),
    grep: Flags.string({ description: 'only frames holding this text (HTTP: in the decoded bodies too); case-insensitive' }),
    textconv: Flags.boolean({ description: 'the whole tape as text for git diff', exclusive: ['frame', 'body'] }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TapeShow);
    const out = process.stdout;
    const c = styleFor(out);
    if (flags.textconv) {
      for (const line of textconvLines(args.tape)) out.write(line + '\n');
      return;
    }
    if (flags.frame !== undefined) {
      const v = showFrame(args.tape, flags.frame);
      if (flags.json) this.emitJson('arcp-tape-frame/1', v);
      else out.write(frameViewLines(v, c).join('\n') + '\n');
      return;
    }
    const f = { route: flags.route, method: flags.method, status: flags.status, kind: flags.kind, text: flags.grep };
    const filter = hasFilter(f) ? frameFilter(args.tape, f) : undefined;
    if (flags.body) {
      const picked = filter || flags.channel !== undefined ? pickedChannels(args.tape, flags.channel, filter) : undefined;
      for (const e of showBodies(args.tape, picked))
        if (flags.json) this.emitJson('arcp-tape-exchange/1', e);
      else out.write(exchangeLines(e, c).join('\n') + '\n\n');
      return;
    }
    const view = showTape(args.tape, { channel: flags.channel, fromSeq: flags.from, limit: flags.limit, filter });
    try {
      const steps = flags.steps ? tapeSteps(args.tape) : undefined;
      if (flags.json) this.emitJson('arcp-tape-show/1', { path: view.path, meta: view.meta, ...liveJson(view.live), channels: view.channels, ...(steps ? stepsJson(steps) : {}) });
      else {
        const head = showHeaderLines(view, c, flags.limit);
        // The steps go before the timeline's heading (the header's last line).
        out.write([...head.slice(0, -1), ...(steps ? stepLines(steps, c) : []), head[head.length - 1]].join('\n') + '\n');
      }
      const channels = new Map(view.channels.map((ch) => [ch.id, ch]));
      let shown = 0;
      for (const row of view.timeline) {
        shown++;
        if (flags.json) this.emitJson('arcp-tape-show-frame/1', steps ? { ...row, ...rowLink(steps, row.seq) } : row);
        else out.write(timelineLine(row, c, channels) + '\n');
      }
      if (!shown && (filter || flags.channel !== undefined || flags.from !== undefined)) process.stderr.write(noMatchLine({ channel: flags.channel, from: flags.from, route: flags.route, method: flags.method, status: flags.status, kind: flags.kind, grep: flags.grep }) + '\n');
    } finally {
      view.close();
    }
  }
}

/** The channels whose frames pass the filters (and the --channel), for --body. */
function pickedChannels(tape: string, channel: number | undefined, filter: ReturnType<typeof frameFilter> | undefined): Set<number> {
  const view = showTape(tape, { channel, filter });
  try {
    return new Set([...view.timeline].map((r) => r.channel));
  } finally {
    view.close();
  }
}
