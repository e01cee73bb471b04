import { Args, Flags } from '@oclif/core';
import { submitJob } from '../src/client/submit.js';
import { parseJsonFlag } from '../src/errors.js';
import { formatJobMessage } from '../src/render/job.js';
import { styleFor } from '../src/render/style.js';
import type { Lease } from '../src/engine/schemas/common.js';
import { ArcpCommand } from './_base.js';

export default class Submit extends ArcpCommand {
  static override summary = 'Submit one job to an ARCP runtime and stream its events';
  static override description = `Opens a session, submits a job, prints every job message as it arrives (NDJSON with --json),
and closes the session when the job ends. Use "-- <command>" to spawn a runtime speaking stdio.

A connection lost mid-job is resumed (§6.3: the same session, every event after the last one
seen) when the runtime is on WebSocket and has accepted the job; if that fails, or the
runtime was on stdio, one line says what was lost.

Exit codes: 0 job.result, 1 job.error, 2 usage or connection error (a lost connection that
could not be resumed included).`;
  static override strict = false;
  static override args = { command: Args.string({ description: 'runtime command after --, for stdio', required: false, ignoreStdin: true }) };
  static override examples = [
    '<%= config.bin %> submit --url ws://127.0.0.1:7777 --token secret --agent chatty --input \'{"dataset":"s3://x/y.csv"}\' --lease \'{"tool.call":["stats.*"]}\'',
    '<%= config.bin %> submit --url ws://127.0.0.1:7777 --token secret --agent refactor@1.0.0 --json',
    '<%= config.bin %> submit --token tok --agent echo -- arcp serve --stdio --token tok=alice',
  ];
  static override flags = {
    url: Flags.string({ char: 'u', description: 'runtime WebSocket URL', env: 'ARCP_URL' }),
    token: Flags.string({ char: 't', description: 'bearer token', env: 'ARCP_TOKEN', required: true }),
    agent: Flags.string({ char: 'a', description: 'agent name or name@version', required: true }),
    input: Flags.string({ char: 'i', description: 'job input as JSON' }),
    lease: Flags.string({ description: 'lease_request as JSON, e.g. {"tool.call":["stats.*"]}' }),
    'expires-at': Flags.string({ description: 'lease_constraints.expires_at (ISO 8601 UTC)' }),
    'idempotency-key': Flags.string({ description: 'idempotency_key' }),
    'max-runtime': Flags.integer({ description: 'max_runtime_sec', min: 1 }),
    form: Flags.string({ description: 'message forms for resume/close: draft (v1.1 text) or wire (reference SDK)', options: ['draft', 'wire'], default: 'draft' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Submit);
    this.rejectExtraArgs(argv as string[], 0);
    const command = this.commandAfterDashes();
    const c = styleFor(process.stdout);
    const outcome = await submitJob(
      {
        url: flags.url,
        command,
        token: flags.token,
        agent: flags.agent,
        input: flags.input === undefined ? undefined : parseJsonFlag('input', flags.input),
        lease: flags.lease === undefined ? undefined : (parseJsonFlag('lease', flags.lease) as Lease),
        expiresAt: flags['expires-at'],
        idempotencyKey: flags['idempotency-key'],
        maxRuntimeSec: flags['max-runtime'],
        form: flags.form as 'draft' | 'wire',
      },
      (m) => (flags.json ? this.emitJson('arcp-submit-message/1', m as { type: string }) : process.stdout.write(formatJobMessage(m, c) + '\n')),
    );
    if (!outcome.ok) this.exit(1);
  }
}
