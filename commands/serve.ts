import { Flags } from '@oclif/core';
import { serve } from '../src/runtime/serve.js';
import { randomBytes } from 'node:crypto';
import { ArcpCommand } from './_base.js';

export default class Serve extends ArcpCommand {
  static override summary = 'Run the reference ARCP v1.1 runtime with the conformance agents';
  static override description = `Listens on loopback WebSocket (or speaks NDJSON on stdio) and hosts every agent of the
conformance profile. Prints ARCP_URL=ws://... on stdout when ready; runs until SIGINT/SIGTERM.
Without --token, a random token for principal "dev" is generated and printed as ARCP_TOKEN=...
The "assistant" agent runs a tool-using loop against an LLM API at --llm-url ($ARCP_LLM_URL):
OpenAI-compatible chat completions (or Anthropic Messages with --llm-api anthropic), streamed.
Its requests carry the job's W3C traceparent and an arcp-job-id header.

Exit codes: 0 stopped cleanly, 2 usage error (bad flag, port in use).`;
  static override examples = [
    '<%= config.bin %> serve --port 7777 --token secret=alice',
    '<%= config.bin %> serve --token a=alice --token b=bob --observe auditor=alice',
    '<%= config.bin %> serve --stdio --token tok=alice',
    '<%= config.bin %> serve --heartbeat-interval 1 --resume-window 5 --back-pressure-lag 50',
    '<%= config.bin %> serve --token tok=alice --llm-url http://127.0.0.1:8080/v1   # e.g. the URL `arcp llm serve` prints',
    'ARCP_LLM_URL=https://api.anthropic.com/v1 <%= config.bin %> serve --llm-api anthropic --llm-model claude-sonnet-4-5 --llm-key "$ANTHROPIC_API_KEY"',
  ];
  static override flags = {
    host: Flags.string({ description: 'address to listen on', default: '127.0.0.1' }),
    port: Flags.integer({ char: 'p', description: 'port (0 = any free port)', default: 0, min: 0, max: 65535 }),
    stdio: Flags.boolean({ description: 'speak NDJSON on stdin/stdout instead of listening', exclusive: ['port'] }),
    token: Flags.string({ char: 't', description: 'bearer token and its principal, TOKEN=principal (repeatable)', multiple: true, default: [] }),
    observe: Flags.string({ description: 'let OBSERVER see OWNER\'s jobs, OBSERVER=OWNER (repeatable)', multiple: true, default: [] }),
    'heartbeat-interval': Flags.integer({ description: 'heartbeat_interval_sec advertised and enforced', default: 30, min: 1 }),
    'resume-window': Flags.integer({ description: 'resume_window_sec', default: 600, min: 1 }),
    'back-pressure-lag': Flags.integer({ description: 'unacknowledged events before a back_pressure status', default: 100, min: 1 }),
    'max-frame-bytes': Flags.integer({ description: 'largest frame accepted', default: 4 * 1024 * 1024, min: 1024 }),
    'credentials-endpoint': Flags.string({ description: 'endpoint put in provisioned credentials', default: 'http://127.0.0.1:8787/v1' }),
    'llm-url': Flags.string({ description: 'base URL of the LLM API the assistant agent calls', env: 'ARCP_LLM_URL' }),
    'llm-api': Flags.string({ description: 'the API it speaks', options: ['openai', 'anthropic'], default: 'openai' }),
    'llm-model': Flags.string({ description: 'model the assistant asks for (input.model overrides)', default: 'gpt-4o-mini' }),
    'llm-key': Flags.string({ description: 'API key sent to the LLM (Authorization: Bearer, or x-api-key for anthropic)', env: 'ARCP_LLM_API_KEY' }),
    verbose: Flags.boolean({ char: 'v', description: 'log connections, sessions and jobs on stderr' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Serve);
    const tokens = [...flags.token];
    let generated: string | undefined;
    if (tokens.length === 0) {
      generated = randomBytes(12).toString('hex');
      tokens.push(`${generated}=dev`);
    }
    const s = await serve({
      host: flags.host,
      port: flags.port,
      stdio: flags.stdio,
      tokens,
      observers: flags.observe,
      heartbeatIntervalSec: flags['heartbeat-interval'],
      resumeWindowSec: flags['resume-window'],
      backPressureLag: flags['back-pressure-lag'],
      maxFrameBytes: flags['max-frame-bytes'],
      credentialsEndpoint: flags['credentials-endpoint'],
      llm: { url: flags['llm-url'], api: flags['llm-api'] as 'openai' | 'anthropic', model: flags['llm-model'], key: flags['llm-key'] },
      log: flags.verbose ? (l) => process.stderr.write(`arcp serve: ${l}\n`) : undefined,
    });
    // Listen for a stop before the URL goes out: a script may signal as soon as it reads it.
    const stopAsked = new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      if (flags.stdio) process.stdin.once('end', stop);
    });
    if (s.url) {
      if (flags.json) this.emitJson('arcp-serve/1', { url: s.url, ...(generated ? { token: generated } : {}) });
      else {
        process.stdout.write(`ARCP_URL=${s.url}\n`);
        if (generated) process.stdout.write(`ARCP_TOKEN=${generated}\n`);
      }
    } else if (generated) process.stderr.write(`ARCP_TOKEN=${generated}\n`);
    await stopAsked;
    await s.close();
  }
}
