import { describe, expect, it } from 'vitest';
import type { Layout, LlmDialect, Turn } from '../../src/llm/dialect.js';
import { DIALECTS } from '../../src/llm/dialects.js';
import { formatSse, parseSse } from '../../src/llm/sse.js';

/** Every LLM dialect, through the same contract: what one side writes, the other reads back the same. */
const TURNS: Record<string, (d: LlmDialect) => Turn> = {
  'text and two tool calls': (d) => ({
    text: 'Let me look that up — and compute it 🧮.',
    toolCalls: [
      { id: 'call_1', name: 'read_file', arguments: '{"path":"notes.txt"}' },
      { id: 'call_2', name: 'calculator', arguments: '{"expression":"3 * 17.5"}' },
    ],
    stop: d.stopReason(true),
    usage: { input: 40, output: 12 },
  }),
  'text only': (d) => ({ text: 'The total is 56.7.', toolCalls: [], stop: d.stopReason(false), usage: { input: 9, output: 5 } }),
  'a call without text': (d) => ({ text: '', toolCalls: [{ id: 'call_9', name: 'calculator', arguments: '{"expression":"1+1"}' }], stop: d.stopReason(true), usage: { input: 3, output: 4 } }),
};
const layout = (turn: Turn): Layout => ({ cuts: [[0.2, 0.5, 0.9], ...turn.toolCalls.map(() => [0.3, 0.6])], meta: { id: 'resp_1', model: 'm-1', created: 1735689601 } });
const wire = (events: { event?: string; data: string }[]) => Buffer.from(events.map(formatSse).join(''), 'utf8');

describe.each(Object.values(DIALECTS).map((d) => [d.name, d] as const))('LLM dialect %s', (_name, d) => {
  it.each(Object.keys(TURNS))('a streamed answer (%s) reads back as the same turn, and re-renders to the same bytes', (name) => {
    const turn = TURNS[name](d);
    const body = wire(d.render(turn, layout(turn)));
    const back = d.assemble(parseSse(body));
    expect(back.turn).toEqual(turn);
    // Framed from its own recording, with its own cuts: byte for byte what was recorded.
    expect(wire(d.render(back.turn, back.layout)).equals(body)).toBe(true);
    // The editable document turns back into the same turn.
    expect(d.turnOf(structuredClone(back.doc), back.turn)).toEqual(turn);
  });

  it('an edited document re-renders with the recorded framing and deltas cut at the same relative places', () => {
    const turn = TURNS['text and two tool calls'](d);
    const body = wire(d.render(turn, layout(turn)));
    const back = d.assemble(parseSse(body));
    const edited: Turn = { ...turn, text: turn.text.toUpperCase() + ' MORE TEXT HERE', toolCalls: [{ ...turn.toolCalls[0], name: 'calculator', arguments: '{"expression":"2*21"}' }] };
    const again = d.assemble(parseSse(wire(d.render(edited, back.layout))));
    expect(again.turn).toEqual({ ...edited, stop: d.stopReason(true) });
    expect(again.layout.cuts[0].length).toBe(back.layout.cuts[0].length);
    again.layout.cuts[0].forEach((f, i) => expect(Math.abs(f - back.layout.cuts[0][i])).toBeLessThan(0.05));
  });

  it('normalises the stop reason to the calls the edited document has', () => {
    const turn = TURNS['a call without text'](d);
    const back = d.assemble(parseSse(wire(d.render(turn, layout(turn)))));
    const doc = structuredClone(back.doc) as Record<string, unknown>;
    if (d.name === 'openai') {
      delete doc.tool_calls;
      doc.content = 'No call after all.';
    } else doc.content = [{ type: 'text', text: 'No call after all.' }];
    expect(d.turnOf(doc, back.turn)).toMatchObject({ text: 'No call after all.', toolCalls: [], stop: d.stopReason(false) });
  });

  it('rejects a document that does not fit, in one line', () => {
    expect(() => d.turnOf({ content: 42 })).toThrow(/does not fit .*\/content/);
  });

  it('a JSON (non-streamed) answer reads back as the same turn', () => {
    const turn = TURNS['text and two tool calls'](d);
    expect(d.fromJson(JSON.parse(JSON.stringify(d.renderJson(turn, layout(turn).meta!)))).turn).toEqual(turn);
  });

  it('a request it builds parses back to the same conversation', () => {
    const turn = TURNS['text and two tool calls'](d);
    const messages = [
      { role: 'system' as const, text: 'be brief' },
      { role: 'user' as const, text: 'what is in notes.txt?' },
      { role: 'assistant' as const, turn: { ...turn, usage: undefined } },
      { role: 'tool' as const, callId: 'call_1', name: 'read_file', content: '{"content":"hi"}' },
      { role: 'tool' as const, callId: 'call_2', name: 'calculator', content: '{"value":52.5}', isError: false },
    ];
    const body = JSON.parse(JSON.stringify(d.requestBody({ model: 'm', messages, tools: [{ name: 'calculator', description: 'x', parameters: { type: 'object' } }], stream: true })));
    const parsed = d.parseRequest(body);
    expect(parsed.stream).toBe(true);
    expect(parsed.model).toBe('m');
    expect(parsed.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'tool']);
    expect(parsed.messages[2]).toMatchObject({ turn: { text: turn.text, toolCalls: turn.toolCalls } });
    expect(parsed.messages[3]).toMatchObject({ callId: 'call_1', name: 'read_file', content: '{"content":"hi"}' });
  });

  it('writes errors in the API shape', () => {
    expect(JSON.stringify(d.errorBody('rate limited', 'rate_limit_error'))).toContain('"message":"rate limited"');
  });
});
