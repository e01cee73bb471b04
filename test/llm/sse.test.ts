import { describe, expect, it } from 'vitest';
import { formatSse, parseSse, SseParser } from '../../src/llm/sse.js';

const body = Buffer.from(['event: a\ndata: {"x":"é🧮"}\n\n', ': comment\ndata: line 1\ndata: line 2\n\n', 'data: [DONE]\r\n\r\n'].join(''), 'utf8');

describe('SSE parser', () => {
  it('reads events, multi-line data, comments, CRLF, with byte offsets', () => {
    const events = parseSse(body);
    expect(events.map((e) => [e.event, e.data])).toEqual([
      ['a', '{"x":"é🧮"}'],
      [undefined, 'line 1\nline 2'],
      [undefined, '[DONE]'],
    ]);
    expect(events[events.length - 1].end).toBe(body.length);
    expect(body.subarray(events[1].start, events[1].end).toString()).toBe(': comment\ndata: line 1\ndata: line 2\n\n');
  });

  it('gives the same events however the bytes are split (inside lines, terminators and UTF-8 sequences)', () => {
    const whole = parseSse(body);
    for (let cut = 1; cut < body.length; cut++) {
      const p = new SseParser();
      const got = [...p.push(body.subarray(0, cut)), ...p.push(body.subarray(cut)), ...p.end()];
      expect(got, `cut at ${cut}`).toEqual(whole);
    }
    const p = new SseParser();
    const bytewise = [...[...body].flatMap((b) => p.push(Buffer.from([b]))), ...p.end()];
    expect(bytewise).toEqual(whole);
  });

  it('formats events so they parse back', () => {
    const e = { event: 'message_start', data: '{"a":1}\n{"b":2}' };
    expect(parseSse(Buffer.from(formatSse(e)))).toMatchObject([e]);
  });
});
