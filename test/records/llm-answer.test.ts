import { describe, expect, it } from 'vitest';
import { assembleAnswer } from '../../src/records/llm-answer.js';

const sse = (events: (Record<string, unknown> | string)[], named = false) =>
  Buffer.from(events.map((e) => (typeof e === 'string' ? `data: ${e}\n\n` : `${named ? `event: ${e.type}\n` : ''}data: ${JSON.stringify(e)}\n\n`)).join(''));

describe('assembling an LLM answer from its response body', () => {
  it('Anthropic: text and a tool_use whose input JSON arrives in pieces', () => {
    const a = assembleAnswer(
      sse(
        [
          { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-x', content: [], stop_reason: null, usage: { input_tokens: 9, output_tokens: 1 } } },
          { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
          { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Let me ' } },
          { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'add.' } },
          { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: 'calc.add', input: {} } },
          { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"a": 2, ' } },
          { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '"b": 3}' } },
          { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 17 } },
          { type: 'message_stop' },
        ],
        true,
      ),
      'text/event-stream',
      true,
    );
    expect(a).toMatchObject({
      dialect: 'anthropic.messages',
      text: 'Let me add.',
      value: { id: 'msg_1', role: 'assistant', stop_reason: 'tool_use', usage: { input_tokens: 9, output_tokens: 17 }, content: [{ type: 'text', text: 'Let me add.' }, { type: 'tool_use', id: 'toolu_1', name: 'calc.add', input: { a: 2, b: 3 } }] },
    });
  });

  it('OpenAI Responses: the response its completed event carries', () => {
    const a = assembleAnswer(sse([{ type: 'response.output_text.delta', delta: 'Hi' }, { type: 'response.completed', response: { id: 'resp_1', output_text: 'Hi', status: 'completed' } }], true), 'text/event-stream', false);
    expect(a).toEqual({ dialect: 'openai.responses', value: { id: 'resp_1', output_text: 'Hi', status: 'completed' }, text: 'Hi' });
  });

  it('OpenAI chat with two parallel tool calls and a refusal-free text; [DONE] ignored', () => {
    const c = (delta: Record<string, unknown>, finish: string | null = null) => ({ id: 'c', model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] });
    const a = assembleAnswer(
      sse([
        c({ role: 'assistant', tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'a', arguments: '{"x"' } }] }),
        c({ tool_calls: [{ index: 1, id: 'call_2', type: 'function', function: { name: 'b', arguments: '{}' } }] }),
        c({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }),
        c({}, 'tool_calls'),
        '[DONE]',
      ]),
      'text/event-stream; charset=utf-8',
      false,
    );
    expect(a.value).toMatchObject({ choices: [{ message: { content: null, tool_calls: [{ id: 'call_1', function: { name: 'a', arguments: '{"x":1}' } }, { id: 'call_2', function: { name: 'b', arguments: '{}' } }] }, finish_reason: 'tool_calls' }] });
  });

  it('other streams, plain text and binary bodies are kept as what they are', () => {
    expect(assembleAnswer(Buffer.from('event: tick\ndata: 1\n\nevent: tick\ndata: not json\n\n'), 'text/event-stream', true)).toEqual({ dialect: 'sse', value: [{ event: 'tick', data: 1 }, { event: 'tick', data: 'not json' }] });
    expect(assembleAnswer(Buffer.from('upstream says no'), 'text/plain', false)).toEqual({ dialect: 'text', value: 'upstream says no', text: 'upstream says no' });
    expect(assembleAnswer(Buffer.from([0xff, 0xfe, 0x00]), 'application/octet-stream', false)).toEqual({ dialect: 'binary', value: { bytes: 3, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) } });
  });
});
