import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../src/llm/dialects.js';
import { DEMO_SCRIPT } from '../../src/llm/demo-script.js';
import type { Script } from '../../src/llm/script.js';
import { startScriptedLlm, type ScriptedLlm } from '../../src/llm/scripted-server.js';
import { parseSse } from '../../src/llm/sse.js';

const script: Script = {
  ...DEMO_SCRIPT,
  replies: [{ when: { last_contains: 'slow down' }, error: { status: 429, message: 'rate limited', type: 'rate_limit_error' } }, ...DEMO_SCRIPT.replies.filter((r) => r.when)],
};
let llm: ScriptedLlm;
beforeAll(async () => {
  llm = await startScriptedLlm({ script });
});
afterAll(() => llm.close());

const task = 'What is the total for 3 items at 17.50 each plus 8% tax?';
const openaiBody = (content: string, stream = true) => JSON.stringify(DIALECTS.openai.requestBody({ model: 'm', messages: [{ role: 'user', text: content }], tools: [], stream }));

async function post(path: string, body: string) {
  const res = await request(llm.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const chunks: Buffer[] = [];
  for await (const c of res.body) chunks.push(c as Buffer);
  return { status: res.statusCode, headers: res.headers, chunks, body: Buffer.concat(chunks) };
}

describe('the scripted LLM server (over real sockets)', () => {
  it('streams an OpenAI answer with a tool call in several writes, deterministically', async () => {
    const a = await post('/chat/completions', openaiBody(task));
    const b = await post('/chat/completions', openaiBody(task));
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toBe('text/event-stream');
    expect(a.body.equals(b.body)).toBe(true);
    expect(a.chunks.length).toBeGreaterThan(2);
    // Some writes end inside an event, as TCP may deliver them.
    expect(a.chunks.slice(0, -1).some((c) => !c.toString('latin1').endsWith('\n\n'))).toBe(true);
    const events = parseSse(a.body);
    expect(events[events.length - 1].data).toBe('[DONE]');
    const { turn } = DIALECTS.openai.assemble(events);
    expect(turn.text).toBe('First the subtotal: three items at 17.50 each.');
    expect(turn.toolCalls).toEqual([{ id: expect.stringMatching(/^call_[0-9a-f]{24}$/), name: 'calculator', arguments: '{"expression":"3 * 17.50"}' }]);
    expect(turn.stop).toBe('tool_calls');
    expect(turn.usage?.input).toBeGreaterThan(0);
    // Text deltas are a few characters each, not the whole answer at once.
    expect(events.filter((e) => e.data.includes('"content":"') && !e.data.includes('"content":""')).length).toBeGreaterThan(3);
  });

  it('answers the Anthropic Messages shape, and JSON when not streaming', async () => {
    const body = JSON.stringify(DIALECTS.anthropic.requestBody({ model: 'claude-x', messages: [{ role: 'user', text: task }], tools: [], stream: true }));
    const r = await post('/messages', body);
    const events = parseSse(r.body);
    expect(events[0].event).toBe('message_start');
    expect(events[events.length - 1].event).toBe('message_stop');
    expect(DIALECTS.anthropic.assemble(events).turn).toMatchObject({ toolCalls: [{ name: 'calculator', id: expect.stringMatching(/^toolu_/) }], stop: 'tool_use' });
    const json = await post('/chat/completions', openaiBody(task, false));
    expect(json.headers['content-type']).toBe('application/json');
    expect(DIALECTS.openai.fromJson(JSON.parse(json.body.toString())).turn.toolCalls[0].name).toBe('calculator');
  });

  it('says which turn no reply matches, rejects a body that is not a request, and plays scripted errors', async () => {
    const none = await post('/chat/completions', JSON.stringify(DIALECTS.openai.requestBody({ model: 'm', messages: [{ role: 'user', text: 'hello' }], tools: [], stream: true })));
    expect(none.status).toBe(400);
    expect(JSON.parse(none.body.toString()).error.message).toMatch(/no reply in the script matches turn 1/);
    const bad = await post('/chat/completions', '{not json');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body.toString()).error.message).toMatch(/does not fit the openai API/);
    const limited = await post('/chat/completions', openaiBody('please slow down'));
    expect(limited.status).toBe(429);
    expect(JSON.parse(limited.body.toString()).error).toMatchObject({ message: 'rate limited', type: 'rate_limit_error' });
    const nowhere = await request(llm.url + '/embeddings', { method: 'POST', body: '{}' });
    expect(nowhere.statusCode).toBe(404);
    await nowhere.body.text();
  });
});
