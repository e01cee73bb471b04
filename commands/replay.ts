import { Args, Flags } from '@oclif/core';
import { replay } from '../src/replay/replay.js';
import { progressLine, reportLines } from '../src/render/replay.js';
import { styleFor } from '../src/render/style.js';
import { ArcpCommand } from './_base.js';

export default class Replay extends ArcpCommand {
  static override summary = 'Replay a tape offline, bit-exact, and stop at the first divergence';
  static override description = `As the runtime (the client is under test):
  --listen      serve the recorded runtime side on WebSocket (prints ARCP_URL)
  --stdio       …on stdin/stdout (spawn "arcp replay TAPE --stdio" in place of the runtime)
  --http-port N serve the recorded HTTP/SSE exchanges (prints ARCP_HTTP_URL); never forwards
As the client (the runtime is under test):
  --target ws://…  or  -- <runtime command>
Frames are matched exactly except declared volatile fields: the ARCP preset (message ids,
identifiers, timestamps, nonces, redaction placeholders) and --volatile pointers. Identifiers
one side generates are mapped and substituted consistently; the report lists them. Heartbeats
and acks are matched loosely (answered live when they fall elsewhere).

Every frame's bytes are checked against their sha256 as they are read: a tape changed after
recording ends the run (exit 2) rather than serve what it does not hold. A tape with gaps
(frames its recorder could not write) says so in the report.

With --json, serving prints {"ws","http"} (where clients connect) as its first line and the
report as its last.

Exit codes: 0 clean (prints a replay fingerprint equal to the tape's), 1 divergence, or a run
that ended before the recording did (Ctrl-C, no client within --connect-timeout), 2 usage or
input error (a damaged or altered tape included).`;
  static override strict = false;
  static override args = {
    tape: Args.string({ description: 'tape to replay', required: true, ignoreStdin: true }),
    command: Args.string({ description: 'runtime command after --, to replay against over stdio', required: false, ignoreStdin: true }),
  };
  static override examples = [
    { description: 'Serve the runtime side to a client under test', command: '<%= config.bin %> replay tapes/run.tape --listen --port 7777' },
    { description: 'A client that spawns its runtime: spawn the replay instead', command: '<%= config.bin %> replay tapes/run.tape --stdio' },
    { description: 'Offline LLM: serve the recorded HTTP/SSE exchanges, with recorded timing', command: '<%= config.bin %> replay tapes/run.tape --http-port 8080 --pace recorded' },
    { description: 'Check a runtime still behaves as recorded', command: '<%= config.bin %> replay tapes/run.tape --target ws://127.0.0.1:7777 --token "$ARCP_TOKEN"' },
    { description: 'Exercise resume: drop the connection after frame 42', command: '<%= config.bin %> replay tapes/run.tape --listen --fault drop@42' },
  ];
  static override flags = {
    listen: Flags.boolean({ char: 'l', description: 'serve the runtime side on WebSocket' }),
    host: Flags.string({ description: 'address to listen on', default: '127.0.0.1' }),
    port: Flags.integer({ char: 'p', description: 'WebSocket port (0 = any free port)', default: 0, min: 0, max: 65535 }),
    stdio: Flags.boolean({ description: 'serve the runtime side on stdin/stdout' }),
    'http-port': Flags.integer({ description: 'serve the recorded HTTP exchanges on this port (0 = any free port)', min: 0, max: 65535 }),
    target: Flags.string({ char: 't', description: 'live runtime to replay the client side against (ws://…)' }),
    token: Flags.string({ description: 'real bearer token for a tape whose token was redacted (with --target or a command)', env: 'ARCP_TOKEN' }),
    volatile: Flags.string({ description: 'JSON pointer whose value may differ (repeatable; * matches any key)', multiple: true, default: [] }),
    preset: Flags.boolean({ description: 'the built-in ARCP volatile preset (--no-preset: everything must match exactly)', default: true, allowNo: true }),
    continue: Flags.boolean({ description: 'collect every divergence instead of stopping at the first' }),
    pace: Flags.string({ description: 'fast, or recorded: keep the recorded gaps between frames', options: ['fast', 'recorded'], default: 'fast' }),
    speed: Flags.string({ description: 'with --pace recorded, play N times faster', default: '1' }),
    fault: Flags.string({ description: 'drop@SEQ, delay@SEQ=MS or duplicate@SEQ (repeatable; as the runtime)', multiple: true, default: [] }),
    timeout: Flags.integer({ description: 'seconds to wait for the live side\'s next frame', default: 10, min: 1 }),
    'connect-timeout': Flags.integer({ description: 'as the runtime: seconds to wait for a client to open each recorded connection (the first included)', default: 60, min: 1 }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Replay);
    const command = this.commandAfterDashes();
    const out = flags.stdio ? process.stderr : process.stdout;
    const progress = { frames: 0, total: 0 };
    const stopProgress = this.progress(!flags.json, () => progress.frames, (perSec) => progressLine(progress, perSec, styleFor(process.stderr)));
    const report = await replay(
      {
        tape: args.tape,
        listen: flags.listen ? { host: flags.host, port: flags.port } : undefined,
        stdio: flags.stdio,
        http: flags['http-port'] !== undefined ? { host: flags.host, port: flags['http-port'] } : undefined,
        target: flags.target,
        command,
        token: flags.token,
        volatile: { preset: flags.preset, pointers: flags.volatile },
        keepGoing: flags.continue,
        pace: flags.pace as 'fast' | 'recorded',
        speed: flags.speed,
        faults: flags.fault,
        timeoutSec: flags.timeout,
        connectTimeoutSec: flags['connect-timeout'],
        progress,
      },
      (addresses) => {
        // --json: where clients connect, as the first line (the report is the last).
        if (flags.json) return out.write(JSON.stringify(addresses) + '\n');
        if (addresses.ws) out.write(`ARCP_URL=${addresses.ws}\n`);
        if (addresses.http) out.write(`ARCP_HTTP_URL=${addresses.http}\n`);
      },
      new Promise<void>((r) => {
        process.once('SIGINT', r);
        process.once('SIGTERM', r);
      }),
    ).finally(stopProgress);
    if (flags.json) out.write(JSON.stringify(report) + '\n');
    else out.write(reportLines(report, styleFor(out as NodeJS.WriteStream)).join('\n') + '\n');
    if (!report.ok) this.exit(1);
  }
}
