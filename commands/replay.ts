import { Args, Flags } from '@oclif/core';
import { replay } from '../src/replay/replay.js';
import { HTTP_MODES, type HttpMode } from '../src/replay/http-player.js';
import { parseRouteMatch } from '../src/replay/http-match.js';
import { parseRoute } from '../src/record/http-exchange.js';
import { progressLine, reportLines } from '../src/render/replay.js';
import { reportFileLine } from '../src/render/report.js';
import { writeDivergenceReport } from '../src/report/divergence.js';
import { styleFor } from '../src/render/style.js';
import { ArcpCommand } from './_base.js';

export default class Replay extends ArcpCommand {
  static override summary = 'Replay a tape offline, bit-exact, and stop at the first divergence';
  static override description = `As the runtime (the client is under test):
  --listen       serve the recorded runtime side on WebSocket (prints ARCP_URL)
  --stdio        …on stdin/stdout (spawn "arcp replay TAPE --stdio" in place of the runtime)
  --http-port N  serve the recorded HTTP/SSE exchanges (prints ARCP_HTTP_URL); never forwards
As the client (the runtime is under test):
  --target ws://…  or  -- <runtime command>
With --listen or --http-port, "-- <command>" (or --run "shell line") is instead the program
under test: it runs with ARCP_URL, ARCP_HTTP_URL (and OPENAI_BASE_URL / ANTHROPIC_BASE_URL
when a route prefix names the API) in its environment, the replay serves until it exits, and
arcp exits with its exit code, or 1 on a divergence.
HTTP modes (--http-mode): replay (default: an unmatched request is a divergence, answered
502, never forwarded), record-if-missing (forward what the tape lacks and append it), update
(re-record what is requested), passthrough (forward what the tape lacks, record nothing).
--http-reuse lets a recorded exchange answer again; --all-played makes an exchange never
requested a divergence. --http-match sets what is compared per route (what is stored is
untouched): header=NAME, ignore-query=NAME|*, volatile=/POINTER, partial (extra JSON fields in
the live request are fine). HTTP faults aim at an exchange, ROUTE:N (the Nth under /ROUTE;
http:N of all): status@llm:2=429, reset@llm:1=3, slow@llm:1=2000, stall@llm:1=500.
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
    { description: 'Run the test suite against the recorded LLM; exit with its code', command: '<%= config.bin %> replay tapes/llm.tape --http-port 0 --all-played -- npm test' },
    { description: 'Serve what the tape has, record what it lacks (VCR new_episodes)', command: '<%= config.bin %> replay tapes/llm.tape --http-port 8080 --http-mode record-if-missing' },
    { description: 'Match requests ignoring a header-borne org and the "user" field; test a retry on 429', command: '<%= config.bin %> replay tapes/llm.tape --http-port 8080 --http-match "/openai:volatile=/user" --fault status@openai:1=429' },
  ];
  static override flags = {
    listen: Flags.boolean({ char: 'l', description: 'serve the runtime side on WebSocket' }),
    host: Flags.string({ description: 'address to listen on', default: '127.0.0.1' }),
    port: Flags.integer({ char: 'p', description: 'WebSocket port (0 = any free port)', default: 0, min: 0, max: 65535 }),
    stdio: Flags.boolean({ description: 'serve the runtime side on stdin/stdout' }),
    'http-port': Flags.integer({ description: 'serve the recorded HTTP exchanges on this port (0 = any free port)', min: 0, max: 65535 }),
    target: Flags.string({ char: 'u', description: 'live runtime to replay the client side against (ws://…)' }),
    token: Flags.string({ description: 'real bearer token for a tape whose token was redacted (with --target or a command)', env: 'ARCP_TOKEN' }),
    volatile: Flags.string({ description: 'JSON pointer whose value may differ (repeatable; * matches any key)', multiple: true, default: [] }),
    preset: Flags.boolean({ description: 'the built-in ARCP volatile preset (--no-preset: everything must match exactly)', default: true, allowNo: true }),
    continue: Flags.boolean({ description: 'collect every divergence instead of stopping at the first' }),
    pace: Flags.string({ description: 'fast, or recorded: keep the recorded gaps between frames', options: ['fast', 'recorded'], default: 'fast' }),
    speed: Flags.string({ description: 'with --pace recorded, play N times faster', default: '1' }),
    fault: Flags.string({ description: 'drop@SEQ, delay@SEQ=MS or duplicate@SEQ (repeatable; as the runtime)', multiple: true, default: [] }),
    timeout: Flags.integer({ description: 'seconds to wait for the live side\'s next frame', default: 10, min: 1 }),
    'connect-timeout': Flags.integer({ description: 'as the runtime: seconds to wait for a client to open each recorded connection (the first included)', default: 60, min: 1 }),
    'http-mode': Flags.string({ description: 'what an HTTP request the tape does not answer gets', options: [...HTTP_MODES], default: 'replay' }),
    'http-reuse': Flags.boolean({ description: 'a recorded HTTP exchange may answer again once used' }),
    'all-played': Flags.boolean({ description: 'a recorded HTTP exchange never requested is a divergence' }),
    'http-match': Flags.string({ description: 'what is compared for a route: [PREFIX:]header=NAME,ignore-query=NAME,volatile=/PTR,partial (repeatable)', multiple: true, default: [] }),
    'http-upstream': Flags.string({ description: 'PREFIX=URL to forward to in the record and passthrough modes (default: the recorded upstreams; repeatable)', multiple: true, default: [] }),
    run: Flags.string({ description: 'shell command to run as the client under test (like -- <command>)' }),
    report: Flags.string({ description: 'also write an HTML page of the run to FILE: the first divergence, expected beside actual, among the frames around it' }),
  };

  async run(): Promise<void> {
    const { args, argv, flags } = await this.parse(Replay);
    this.rejectExtraArgs(argv as string[], 1);
    const command = this.commandAfterDashes();
    const out = flags.stdio ? process.stderr : process.stdout;
    const progress = { frames: 0, total: 0 };
    const stopProgress = this.progress(!flags.json, () => progress.frames, (perSec) => progressLine(progress, perSec, styleFor(process.stderr)));
    const serving = flags.listen || flags['http-port'] !== undefined;
    const report = await replay(
      {
        tape: args.tape,
        listen: flags.listen ? { host: flags.host, port: flags.port } : undefined,
        stdio: flags.stdio,
        http:
          flags['http-port'] !== undefined
            ? { host: flags.host, port: flags['http-port'], mode: flags['http-mode'] as HttpMode, reuse: flags['http-reuse'], allPlayed: flags['all-played'], match: flags['http-match'].map(parseRouteMatch), upstreams: flags['http-upstream'].map(parseRoute) }
            : undefined,
        client: flags.run ?? (serving && command.length ? command : undefined),
        target: flags.target,
        command: serving ? [] : command,
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
        if (flags.json) return this.emitJson('arcp-replay-listening/1', addresses, out);
        if (addresses.ws) out.write(`ARCP_URL=${addresses.ws}\n`);
        if (addresses.http) out.write(`ARCP_HTTP_URL=${addresses.http}\n`);
      },
      new Promise<void>((r) => {
        process.once('SIGINT', r);
        process.once('SIGTERM', r);
      }),
    ).finally(stopProgress);
    if (flags.report) process.stderr.write(reportFileLine('replay', writeDivergenceReport(report, flags.report), styleFor(process.stderr)) + '\n');
    if (flags.json) this.emitJson('arcp-replay/1', report, out);
    else out.write(reportLines(report, styleFor(out as NodeJS.WriteStream)).join('\n') + '\n');
    if (report.command?.exitCode) this.exit(report.command.exitCode);
    if (!report.ok) this.exit(1);
  }
}
