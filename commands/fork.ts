import { Args, Flags } from '@oclif/core';
import { fork, showStep } from '../src/fork/fork.js';
import { forkLines, showLines } from '../src/render/fork.js';
import { progressLine } from '../src/render/replay.js';
import { styleFor } from '../src/render/style.js';
import { ArcpCommand } from './_base.js';

export default class Fork extends ArcpCommand {
  static override summary = 'Branch a recorded run at a step, edit it, optionally continue live; the child keeps its lineage';
  static override description = `Steps are the addresses \`arcp tape show\` lists: seq:N (any frame), submit:N, job:N/llm:N
(the Nth LLM exchange of a job), job:N/event:N, job:N/tool_call:CALL_ID, job:N/result,
llm:N, http:N. An LLM answer is edited as its assembled message (--show prints it) and
re-streamed like the recorded one: same event framing, deltas and chunk boundaries at the
same relative places, chunk timing kept.

Without a runtime, the child is the parent's frames before the step and the edited step
(--keep-rest also keeps the parent's frames after it, to replay to a client).
With -- <runtime command> (or --target ws://…), the runtime is driven with the parent's client
frames; its LLM calls before the fork point are answered from the parent (a run that differs
there is an error: nothing is written), the forked call gets the edited answer, and later calls
go to --llm-upstream URL (recorded) or --then tape:OTHER. Everything is recorded into the
child, which is sealed. A spawned runtime finds the fork's LLM endpoint in $ARCP_LLM_URL; a
--target runtime must be started with the printed ARCP_LLM_URL (fix it with --llm-port).
The child's meta holds the lineage: parent fingerprint, step, edit, command.

Exit codes: 0 forked, 1 the runtime diverged before the fork point (nothing written), or the
continuation had trouble (a job still running at the end, an LLM call with nowhere to go, a dead
upstream; the child is written and the report names it), 2 usage error (bad step address, an edit
that does not apply, unreadable tape).`;
  static override strict = false;
  static override args = {
    parent: Args.string({ description: 'tape to fork', required: true, ignoreStdin: true }),
    command: Args.string({ description: 'runtime command after --, to continue live over stdio', required: false, ignoreStdin: true }),
  };
  static override examples = [
    { description: 'See what the model answered at its third turn', command: '<%= config.bin %> fork tapes/run.tape --at job:1/llm:3 --show' },
    { description: 'Make it call another tool, and continue live against the runtime and the real LLM', command: `<%= config.bin %> fork tapes/run.tape --at job:1/llm:3 --set '/tool_calls/0/function/name="read_file"' --set '/tool_calls/0/function/arguments="{\\"path\\":\\"notes.txt\\"}"' --out tapes/what-if.tape --llm-upstream http://127.0.0.1:8080/v1 --token tok -- arcp serve --stdio --token tok=alice` },
    { description: 'Change the task the client submitted, continue live', command: `<%= config.bin %> fork tapes/run.tape --at submit:1 --set '/payload/input/task="Total for 5 items?"' --llm-upstream "$ARCP_LLM_URL" --token tok -- arcp serve --stdio --token tok=alice` },
    { description: 'Edit a runtime frame and keep the rest, to see how a client copes', command: `<%= config.bin %> fork tapes/run.tape --at job:1/result --patch fail.json --keep-rest --out tapes/bad-result.tape && arcp replay tapes/bad-result.tape --listen` },
    { description: 'Fork the fork', command: '<%= config.bin %> fork tapes/what-if.tape --at job:1/llm:4 --edit answer.json' },
  ];
  static override flags = {
    at: Flags.string({ description: 'the step to fork at (an address from `arcp tape show`)', required: true }),
    set: Flags.string({ description: 'POINTER=JSON: set a value in the step\'s document (repeatable)', multiple: true, default: [] }),
    patch: Flags.string({ description: 'an RFC 6902 JSON patch file applied to the step\'s document' }),
    edit: Flags.string({ description: 'a file holding the whole new document' }),
    show: Flags.boolean({ description: 'print the step\'s document (what --set/--patch/--edit change) and stop' }),
    out: Flags.string({ char: 'o', description: 'child tape (default PARENT.forkN.tape)' }),
    force: Flags.boolean({ description: 'replace the child tape if it exists' }),
    'keep-rest': Flags.boolean({ description: 'without a runtime: keep the parent\'s frames after the step, unchanged' }),
    note: Flags.string({ description: 'a note kept in the lineage' }),
    target: Flags.string({ char: 'u', description: 'continue against this live runtime (ws://…) instead of spawning one' }),
    token: Flags.string({ description: 'the real bearer token, for a parent whose token was redacted', env: 'ARCP_TOKEN' }),
    'llm-upstream': Flags.string({ description: 'where LLM calls after the fork point go (recorded), e.g. http://127.0.0.1:8080/v1' }),
    then: Flags.string({ description: 'tape:PATH: answer LLM calls after the fork point from that tape' }),
    host: Flags.string({ description: 'address the fork\'s LLM endpoint listens on', default: '127.0.0.1' }),
    'llm-port': Flags.integer({ description: 'port of the fork\'s LLM endpoint (0 = any free port)', default: 0, min: 0, max: 65535 }),
    pace: Flags.string({ description: 'recorded: serve recorded and edited answers with their timing; fast: at once', options: ['recorded', 'fast'], default: 'recorded' }),
    timeout: Flags.integer({ description: 'seconds to wait for the runtime\'s next frame', default: 10, min: 1 }),
    volatile: Flags.string({ description: 'JSON pointer whose value may differ before the fork point (repeatable)', multiple: true, default: [] }),
    'redact-pointer': Flags.string({ description: 'also redact this JSON pointer in what the fork records (repeatable; the parent\'s extra rules are not kept in its tape)', multiple: true, default: [] }),
    'redact-header': Flags.string({ description: 'also redact this HTTP header (repeatable)', multiple: true, default: [] }),
    'redact-regex': Flags.string({ description: 'also redact text matching this regular expression (repeatable)', multiple: true, default: [] }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Fork);
    const command = this.commandAfterDashes();
    const c = styleFor(process.stdout);
    if (flags.show) {
      const s = showStep(args.parent, flags.at);
      if (flags.json) this.emitJson('arcp-fork-step/1', { step: s.step.address, seq: s.step.seq, role: s.step.role, kind: s.kind, api: s.api, document: s.doc });
      else process.stdout.write(showLines(s, c).join('\n') + '\n');
      return;
    }
    const continues = command.length > 0 || flags.target !== undefined;
    const progress = { frames: 0, total: 0 };
    const stopProgress = this.progress(continues && !flags.json, () => progress.frames, (perSec) => progressLine(progress, perSec, styleFor(process.stderr)));
    const result = await fork({
      parent: args.parent,
      at: flags.at,
      out: flags.out,
      force: flags.force,
      edit: { set: flags.set, patch: flags.patch, edit: flags.edit },
      keepRest: flags['keep-rest'],
      note: flags.note,
      commandLine: ['arcp', 'fork', ...this.argv],
      redact: { pointers: flags['redact-pointer'], headers: flags['redact-header'], regexes: flags['redact-regex'] },
      continuation: continues
        ? {
            command,
            target: flags.target,
            token: flags.token,
            llmUpstream: flags['llm-upstream'],
            then: flags.then,
            llmHost: flags.host,
            llmPort: flags['llm-port'],
            pace: flags.pace as 'recorded' | 'fast',
            timeoutMs: flags.timeout * 1000,
            volatile: { preset: true, pointers: flags.volatile },
            onLlmUrl: flags.target ? (url) => void process.stderr.write(`ARCP_LLM_URL=${url}\n`) : undefined,
            progress,
          }
        : undefined,
    }).finally(stopProgress);
    if (flags.json) this.emitJson('arcp-fork/1', result);
    else process.stdout.write(forkLines(result, c).join('\n') + '\n');
    if (result.continued && (!result.continued.ok || result.continued.unfinished || result.continued.problems.length)) this.exit(1);
  }
}
