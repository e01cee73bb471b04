import { Flags } from '@oclif/core';
import { loadScript } from '../../src/llm/script.js';
import { startScriptedLlm } from '../../src/llm/scripted-server.js';
import { ArcpCommand } from '../_base.js';

export default class LlmServe extends ArcpCommand {
  static override summary = 'Serve a deterministic, scripted LLM API (OpenAI / Anthropic shaped, streamed) for demos and tests';
  static override description = `A stand-in for the model provider, so an agent's whole story runs offline: POST
…/v1/chat/completions (OpenAI-compatible) and …/v1/messages (Anthropic Messages), with
stream:true as SSE (role, content and tool-call deltas, finish, usage, [DONE]) or as JSON.
The answer is the script's first reply whose "when" holds for the request; the same request
always gets the same bytes (ids, chunking and gaps follow from its body and the seed).
Prints ARCP_LLM_URL=http://…/v1 when ready; runs until SIGINT/SIGTERM.

Script (JSON; --script demo is built in):
  { "model": "m", "seed": 7,
    "chunking": { "delta_chars": [2,8], "events_per_write": [1,3], "gap_ms": [2,10], "split_every": 4 },
    "replies": [
      { "when": { "turn": 1, "user_contains": "total" }, "say": "…", "calls": [{ "name": "calculator", "arguments": { "expression": "3*17.5" } }] },
      { "when": { "after_tool": "calculator" }, "say": "The total is {{tool_result.value}}." },
      { "when": { "last_contains": "boom" }, "error": { "status": 429, "message": "rate limited" } } ] }
"turn" counts the model's answers so far plus one; "after_tool" is the tool whose result ends the
request; {{tool_result}}, {{tool_result.FIELD}} and {{user}} are filled in from the request.
A request no reply matches gets a 400 naming its turn.

Exit codes: 0 stopped cleanly, 2 usage error (bad script, port in use).`;
  static override examples = [
    '<%= config.bin %> llm serve --script demo --port 8080',
    '<%= config.bin %> llm serve --script fixtures/my-script.json --verbose',
    '<%= config.bin %> serve --llm-url "$(<%= config.bin %> llm serve --json | jq -r .url)"   # (in two terminals)',
  ];
  static override flags = {
    script: Flags.string({ char: 's', description: 'script file (JSON), or "demo"', default: 'demo' }),
    host: Flags.string({ description: 'address to listen on', default: '127.0.0.1' }),
    port: Flags.integer({ char: 'p', description: 'port (0 = any free port)', default: 0, min: 0, max: 65535 }),
    verbose: Flags.boolean({ char: 'v', description: 'one line per request on stderr' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(LlmServe);
    const llm = await startScriptedLlm({ script: loadScript(flags.script), host: flags.host, port: flags.port, onRequest: flags.verbose ? (l) => process.stderr.write(`arcp llm: ${l}\n`) : undefined });
    if (flags.json) this.emitJson('arcp-llm-serve/1', { url: llm.url });
    else process.stdout.write(`ARCP_LLM_URL=${llm.url}\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await llm.close();
  }
}
