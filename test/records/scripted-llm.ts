import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small OpenAI-compatible chat completions upstream that answers from a script: each request
 * takes the next step, a streamed answer (SSE chunks written one by one, as the API does) or an
 * error status. What it received is kept, to compare with what the records say was asked.
 */
export type Step = { sse: Record<string, unknown>[] } | { status: number; json: unknown };

export interface ScriptedLlm {
  url: string;
  received: { path: string; headers: IncomingHttpHeaders; body: string }[];
  /** The bytes of each answer as sent. */
  sent: string[];
  /** SSE chunks written so far, across answers (for a test to act mid-stream). */
  chunksWritten: number;
  close(): Promise<void>;
}

const chunk = (model: string, delta: Record<string, unknown>, finish: string | null = null) => ({ id: 'chatcmpl-s1', object: 'chat.completion.chunk', created: 1764633600, model, choices: [{ index: 0, delta, finish_reason: finish }] });

/** A streamed answer that calls a tool: the call's arguments arrive split over three chunks. */
export const toolCallAnswer = (model: string): Step => ({
  sse: [
    chunk(model, { role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_add_1', type: 'function', function: { name: 'calc.add', arguments: '' } }] }),
    chunk(model, { tool_calls: [{ index: 0, function: { arguments: '{"a":' } }] }),
    chunk(model, { tool_calls: [{ index: 0, function: { arguments: '2,"b":' } }] }),
    chunk(model, { tool_calls: [{ index: 0, function: { arguments: '3}' } }] }),
    chunk(model, {}, 'tool_calls'),
    { id: 'chatcmpl-s1', object: 'chat.completion.chunk', created: 1764633600, model, choices: [], usage: { prompt_tokens: 21, completion_tokens: 9, total_tokens: 30 } },
  ],
});

/** A streamed text answer, a few characters a chunk. */
export const textAnswer = (model: string, text: string): Step => ({
  sse: [chunk(model, { role: 'assistant', content: '' }), ...(text.match(/.{1,4}/gs) ?? []).map((t) => chunk(model, { content: t })), chunk(model, {}, 'stop')],
});

/** `gapMs`: the pause between two SSE chunks (a slow model, for a cancel to land mid-answer). */
export async function scriptedLlm(script: Step[], gapMs = 2): Promise<ScriptedLlm> {
  const up: ScriptedLlm = { url: '', received: [], sent: [], chunksWritten: 0, close: async () => undefined };
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    up.received.push({ path: req.url ?? '', headers: req.headers, body });
    const step = script.shift() ?? { status: 500, json: { error: { message: 'script exhausted' } } };
    if ('status' in step) {
      const text = JSON.stringify(step.json);
      up.sent.push(text);
      res.writeHead(step.status, { 'content-type': 'application/json' }).end(text);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let sent = '';
    for (const ev of step.sse) {
      const line = `data: ${JSON.stringify(ev)}\n\n`;
      sent += line;
      res.write(line);
      up.chunksWritten++;
      if (res.destroyed) return;
      await new Promise((r) => setTimeout(r, gapMs));
    }
    sent += 'data: [DONE]\n\n';
    up.sent.push(sent);
    res.end('data: [DONE]\n\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  up.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  up.close = () => new Promise<void>((r) => (server.close(() => r()), server.closeAllConnections()));
  return up;
}
