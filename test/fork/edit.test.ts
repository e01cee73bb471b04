import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { editOf } from '../../src/fork/edit.js';
import { applyPatch, PatchError } from '../../src/fork/patch.js';
import { rechunkBytes, rechunkSse, type Chunk } from '../../src/fork/rechunk.js';
import { DIALECTS } from '../../src/llm/dialects.js';
import { formatSse, parseSse } from '../../src/llm/sse.js';

const doc = { role: 'assistant', content: 'hi', tool_calls: [{ id: 'c1', function: { name: 'calculator', arguments: '{}' } }] };

describe('RFC 6902 patches on a step document', () => {
  it('applies add, remove, replace, move, copy and test', () => {
    const out = applyPatch(doc, [
      { op: 'test', path: '/content', value: 'hi' },
      { op: 'replace', path: '/content', value: 'hello' },
      { op: 'add', path: '/tool_calls/-', value: { id: 'c2', function: { name: 'read_file', arguments: '{}' } } },
      { op: 'copy', from: '/tool_calls/0/id', path: '/first' },
      { op: 'move', from: '/first', path: '/moved' },
      { op: 'remove', path: '/tool_calls/0' },
    ]);
    expect(out).toEqual({ role: 'assistant', content: 'hello', tool_calls: [{ id: 'c2', function: { name: 'read_file', arguments: '{}' } }], moved: 'c1' });
    expect(doc.content).toBe('hi'); // the original is untouched
  });

  it('names what does not exist and what does', () => {
    const fail = (ops: Parameters<typeof applyPatch>[1]) => {
      try {
        applyPatch(doc, ops);
      } catch (e) {
        return e as PatchError;
      }
      throw new Error('applied');
    };
    expect(fail([{ op: 'replace', path: '/tool_calls/3/function/name', value: 'x' }])).toMatchObject({ message: '/tool_calls/3 does not exist', nearest: ['/tool_calls/0'] });
    expect(fail([{ op: 'replace', path: '/contnet', value: 'x' }])).toMatchObject({ message: expect.stringMatching(/\/contnet does not exist/), nearest: ['/role', '/content', '/tool_calls'] });
    expect(fail([{ op: 'test', path: '/content', value: 'nope' }]).message).toMatch(/test \/content: the value is "hi"/);
    expect(fail([{ op: 'add', path: 'content', value: 1 }]).message).toMatch(/not a JSON pointer/);
  });

  it('turns --set into replace where the pointer exists and add where it does not; reads --patch and --edit files', () => {
    expect(editOf({ set: ['/content="x"', '/extra=1'] }, doc)).toEqual({ via: 'set', ops: [{ op: 'replace', path: '/content', value: 'x' }, { op: 'add', path: '/extra', value: 1 }] });
    const dir = mkdtempSync(join(tmpdir(), 'arcp-edit-'));
    writeFileSync(join(dir, 'p.json'), '[{"op":"remove","path":"/content"}]');
    writeFileSync(join(dir, 'bad.json'), '[{"op":"frobnicate","path":"/content"}]');
    writeFileSync(join(dir, 'doc.json'), '{"content":"whole"}');
    expect(editOf({ patch: join(dir, 'p.json') }, doc).ops).toEqual([{ op: 'remove', path: '/content' }]);
    expect(editOf({ edit: join(dir, 'doc.json') }, doc).ops).toEqual([{ op: 'replace', path: '', value: { content: 'whole' } }]);
    expect(() => editOf({ patch: join(dir, 'bad.json') }, doc)).toThrow(/is not an RFC 6902 patch/);
    expect(() => editOf({ patch: join(dir, 'none.json') }, doc)).toThrow(/cannot read it \(ENOENT\)/);
    expect(() => editOf({ set: ['/a=1'], patch: join(dir, 'p.json') }, doc)).toThrow(/--set and --patch both edit the step/);
    expect(() => editOf({ set: ['content'] }, doc)).toThrow(/is not POINTER=JSON/);
    expect(() => editOf({ set: ['/content=not json'] }, doc)).toThrow(/--set \/content: the value is not JSON/);
  });
});

describe('re-chunking an edited answer like the recorded one', () => {
  const d = DIALECTS.openai;
  const turn = { text: 'The subtotal is 52.5. Now the tax.', toolCalls: [{ id: 'call_1', name: 'calculator', arguments: '{"expression":"52.5 * 0.08"}' }], stop: 'tool_calls', usage: { input: 10, output: 9 } };
  const events = d.render(turn, { cuts: [[0.1, 0.3, 0.6, 0.8], [0.25, 0.5, 0.75]], meta: { id: 'x', model: 'm', created: 1 } }).map((e) => Buffer.from(formatSse(e)));
  const body = Buffer.concat(events);
  // Recorded in writes of a few events, one ending halfway through an event, each at its own time.
  const at = [0, events[0].length + events[1].length, events.slice(0, 4).reduce((n, e) => n + e.length, 0) + 30, body.length - events.at(-1)!.length, body.length];
  const original: Chunk[] = at.slice(1).map((end, i) => ({ data: body.subarray(at[i], end), mono_us: 1000 * (i + 1) }));

  it('keeps the chunk count and times, boundaries at the same place in each event', () => {
    const edited = { ...turn, toolCalls: [{ ...turn.toolCalls[0], name: 'read_file', arguments: '{"path":"/tmp/notes.txt"}' }] };
    const assembled = d.assemble(parseSse(body));
    const next = d.render(edited, assembled.layout).map((e) => Buffer.from(formatSse(e)));
    const chunks = rechunkSse(original, parseSse(body), next);
    expect(chunks.map((c) => c.mono_us)).toEqual(original.map((c) => c.mono_us));
    expect(Buffer.concat(chunks.map((c) => c.data)).equals(Buffer.concat(next))).toBe(true);
    // Whole-event writes stay whole-event writes; the write that ended inside an event still does, as far into it.
    expect(chunks[0].data.toString()).toBe(next[0].toString() + next[1].toString());
    expect(chunks[1].data.toString().endsWith('\n\n')).toBe(false);
    expect(d.assemble(parseSse(Buffer.concat(chunks.map((c) => c.data)))).turn).toEqual(edited);
  });

  it('scales boundaries when the edit changes the number of events, and cuts other bodies proportionally', () => {
    const longer = d.render({ ...turn, text: turn.text.repeat(3) }, { cuts: [[0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], [0.5]], meta: { id: 'x', model: 'm', created: 1 } }).map((e) => Buffer.from(formatSse(e)));
    const chunks = rechunkSse(original, parseSse(body), longer);
    expect(chunks).toHaveLength(original.length);
    expect(Buffer.concat(chunks.map((c) => c.data)).equals(Buffer.concat(longer))).toBe(true);
    const plain = rechunkBytes([{ data: Buffer.alloc(10), mono_us: 1 }, { data: Buffer.alloc(30), mono_us: 2 }], Buffer.alloc(80));
    expect(plain.map((c) => [c.data.length, c.mono_us])).toEqual([[20, 1], [60, 2]]);
  });
});
