import { Args, Flags } from '@oclif/core';
import { record, redactionRules } from '../src/record/recorder.js';
import { parseRoute } from '../src/record/http-proxy.js';
import { clientEnv, runClient } from '../src/runner/client-command.js';
import { NO_TRAFFIC, progressLine, recordedWhole, summaryLines } from '../src/render/record.js';
import { styleFor } from '../src/render/style.js';
import { ArcpCommand } from './_base.js';

export default class Record extends ArcpCommand {
  static override summary = 'Record ARCP (WebSocket, stdio) and HTTP/SSE agent traffic into a tape';
  static override description = `Forwards traffic unchanged and writes every frame to a content-addressed SQLite tape
(default tapes/<time>.tape, -2, -3, … if that name is taken). Modes, combinable into one tape:
  --upstream ws://…      WebSocket proxy; clients connect to the printed ARCP_URL
  --http PREFIX=URL      HTTP reverse proxy for LLM/tool calls (SSE streams through); ARCP_HTTP_URL
  -- <runtime command>   stdio wrapper: spawn this in place of the runtime; exit code kept
  --run "shell line"     the program to record is the client: it runs with ARCP_URL and
                         ARCP_HTTP_URL (and OPENAI_BASE_URL / ANTHROPIC_BASE_URL when a route
                         prefix names the API) set; recording stops when it exits, with its code
A wrapped runtime finds the HTTP recorder in $ARCP_RECORD_HTTP_URL, and with one --http route
its URL (route included) in $ARCP_LLM_URL, which \`arcp serve\` reads for its assistant agent.
Secrets (bearer tokens, credentials[].value, Authorization/API-key/cookie headers,
credential query parameters such as ?api_key= and ?access_token= in HTTP and WebSocket URLs,
inside compressed bodies too) are redacted before they reach disk unless --no-redact. The
tape stores how many rules applied, never their text; the stored command line is scrubbed.
Stop with Ctrl-C (SIGINT) or SIGTERM: nothing more is forwarded, both sides of each connection
get a 1001 "recorder stopping" close (recorded as the recorder's own), everything is flushed and
the tape fingerprint printed; a second signal exits at once (the tape is left unsealed). An
upstream that does not answer a WebSocket upgrade within --upstream-timeout gets the client a 504.

Exit codes: 0 recorded, 1 recorded with losses (the disk refused frames: the summary says how
many and why, and the tape records the gap; or the tape could not be sealed), 2 usage or input
error; with a wrapped runtime, the runtime's exit code.`;
  static override strict = false;
  static override args = { command: Args.string({ description: 'runtime command after --, for stdio', required: false, ignoreStdin: true }) };
  static override examples = [
    { description: 'Proxy a WebSocket runtime', command: '<%= config.bin %> record --upstream ws://127.0.0.1:7777 --tape tapes/run.tape' },
    { description: 'Wrap a stdio runtime (the client spawns this instead of the runtime)', command: '<%= config.bin %> record --tape tapes/stdio.tape -- arcp serve --stdio --token tok=alice' },
    { description: 'Record the LLM calls too, SSE included, into the same tape', command: '<%= config.bin %> record --upstream ws://127.0.0.1:7777 --http /openai=https://api.openai.com/v1 --http-port 8080' },
    { description: 'Proxy a TLS runtime whose certificate comes from a private CA', command: 'NODE_EXTRA_CA_CERTS=ca.pem <%= config.bin %> record --upstream wss://runtime.internal:443/arcp' },
    { description: 'Record an SDK program: it finds the proxy in OPENAI_BASE_URL; stops when it exits', command: '<%= config.bin %> record --http /openai=https://api.openai.com/v1 --tape tapes/llm.tape --run "node agent.js"' },
    { description: 'Extra redaction rules', command: "<%= config.bin %> record --upstream ws://127.0.0.1:7777 --redact-pointer /payload/input/api_key --redact-regex 'sk-[A-Za-z0-9]{20,}'" },
  ];
  static override flags = {
    tape: Flags.string({ char: 'o', description: 'tape file to write (default tapes/<time>.tape)' }),
    force: Flags.boolean({ description: 'replace the tape if it exists' }),
    upstream: Flags.string({ char: 'u', description: 'WebSocket runtime to proxy (ws:// or wss://)' }),
    'upstream-timeout': Flags.integer({ description: 'seconds the upstream may take to answer a WebSocket upgrade; then the client gets a 504', default: 10, min: 1, max: 3600 }),
    host: Flags.string({ description: 'address the proxies listen on', default: '127.0.0.1' }),
    port: Flags.integer({ char: 'p', description: 'WebSocket proxy port (0 = any free port)', default: 0, min: 0, max: 65535 }),
    http: Flags.string({ description: 'HTTP route PREFIX=URL to reverse-proxy and record (repeatable)', multiple: true, default: [] }),
    'http-port': Flags.integer({ description: 'HTTP proxy port (0 = any free port)', default: 0, min: 0, max: 65535 }),
    redact: Flags.boolean({ description: 'redact secrets at record time (--no-redact to keep them)', default: true, allowNo: true }),
    'redact-pointer': Flags.string({ description: 'also redact this JSON pointer in frames and JSON bodies; * matches any key (repeatable)', multiple: true, default: [] }),
    'redact-header': Flags.string({ description: 'also redact this HTTP header (repeatable)', multiple: true, default: [] }),
    'redact-regex': Flags.string({ description: 'also redact text matching this regular expression, in frames, bodies, URLs and paths (repeatable)', multiple: true, default: [] }),
    'redact-query': Flags.string({ description: 'also redact this URL query parameter (repeatable; api_key, key, access_token, token, sig… are by default)', multiple: true, default: [] }),
    'flush-ms': Flags.integer({ description: 'longest a frame waits in memory before the writer takes it (what kill -9 can lose)', default: 50, min: 1, max: 100 }),
    quiet: Flags.boolean({ char: 'q', description: 'no progress line' }),
    run: Flags.string({ description: 'shell command to run as the recorded client; recording stops when it exits, with its exit code' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Record);
    this.rejectExtraArgs(argv as string[], 0);
    const command = this.commandAfterDashes();
    // With a wrapped runtime, stdout carries the protocol: everything of ours goes to stderr.
    const out = command.length ? process.stderr : process.stdout;
    const err = process.stderr;
    const c = styleFor(err);
    const rec = await record({
      tape: flags.tape,
      force: flags.force,
      ws: flags.upstream ? { upstream: flags.upstream, host: flags.host, port: flags.port, upstreamTimeoutMs: flags['upstream-timeout'] * 1000 } : undefined,
      http: flags.http.length ? { routes: flags.http.map(parseRoute), host: flags.host, port: flags['http-port'] } : undefined,
      stdio: command.length ? { command } : undefined,
      redaction: redactionRules({ redact: flags.redact, pointers: flags['redact-pointer'], headers: flags['redact-header'], regexes: flags['redact-regex'], query: flags['redact-query'] }),
      commandLine: ['arcp', 'record', ...this.argv],
      flushMs: flags['flush-ms'],
      onWarning: (line) => err.write(`arcp record: ${line}\n`),
    });
    // Listen for a stop before the addresses go out: a signal that comes as soon as a script reads
    // them would otherwise find no handler and kill the process with the tape unsealed.
    let stop = () => undefined as void;
    const stopAsked = new Promise<void>((resolve) => (stop = resolve));
    process.once('SIGINT', () => stop());
    process.once('SIGTERM', () => stop());
    if (flags.json) this.emitJson('arcp-record-listening/1', { tape: rec.tape, ...rec.addresses }, out);
    else {
      if (rec.addresses.ws) out.write(`ARCP_URL=${rec.addresses.ws}\n`);
      if (rec.addresses.http) out.write(`ARCP_HTTP_URL=${rec.addresses.http}\n`);
      err.write(`${c.dim(`recording to ${rec.tape}; Ctrl-C to stop`)}\n`);
    }
    const stopProgress = this.progress(!flags.quiet && !flags.run, () => rec.stats().frames, (perSec) => progressLine(rec.stats(), perSec, c));
    const client = flags.run === undefined ? undefined : runClient(flags.run, clientEnv(rec.addresses, flags.http.map((h) => parseRoute(h).prefix)));
    void rec.done.then(() => stop());
    void client?.exited.then(() => stop(), () => stop());
    await stopAsked;
    client?.stop();
    const clientExit = await client?.exited.catch(async (e: unknown) => {
      await rec.stop(); // the tape is sealed before the error is reported
      throw e;
    });
    // A second signal while stopping: out at once, like kill -9 (the tape reads as unsealed).
    const now = () => {
      err.write(`arcp record: stopped at once on a second signal; ${rec.tape} is left unsealed (the last frames may be missing)\n`);
      process.exit(1);
    };
    process.once('SIGINT', now);
    process.once('SIGTERM', now);
    stopProgress();
    const summary = await rec.stop();
    if (flags.json && !summary.frames) err.write(`arcp record: ${NO_TRAFFIC.trim()}\n`);
    if (flags.json) this.emitJson('arcp-record/1', { ...summary, ...(clientExit !== undefined ? { clientExitCode: clientExit } : {}) }, out);
    else err.write([...summaryLines(summary, c), ...(clientExit !== undefined ? [`  ${flags.run} exited with ${clientExit}`] : [])].join('\n') + '\n');
    if (clientExit) this.exit(clientExit);
    if (summary.exitCode) this.exit(summary.exitCode);
    if (!recordedWhole(summary)) this.exit(1);
  }
}

