import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../src/engine/codec.js';
import { checkEventBody } from '../../src/engine/schemas/events.js';
import { captureFiles, readCapture } from '../helpers/captures.js';

describe('peer captures', () => {
  const files = captureFiles();
  it('has all 21 scenarios', () => expect(files).toHaveLength(21));

  for (const file of files) {
    it(`parses every frame of ${file} and loses nothing on re-serialisation`, () => {
      const lines = readCapture(file).filter((l) => l.dir !== 'meta');
      expect(lines.length).toBeGreaterThan(0);
      lines.forEach((line, n) => {
        const d = decode(line.raw!);
        const expected = JSON.parse(line.raw!);
        if (!d.ok) {
          // The only frames the codec refuses are client frames the peer's runtime refused too.
          const answer = lines.slice(n + 1).find((l) => l.conn === line.conn && l.dir === 's2c');
          expect(line.dir).toBe('c2s');
          expect(JSON.parse(answer!.raw!).payload.code).toBe('INVALID_REQUEST');
          return;
        }
        expect(d.message).toEqual(expected);
        expect(encode(d.message)).toBe(line.raw);
        expect(d.raw.toString('utf8')).toBe(line.raw);
        if (expected.type === 'job.event') {
          expect(checkEventBody(expected.payload.kind, expected.payload.body).ok).toBe(true);
        }
      });
    });
  }

  it('names the v1.0 forms the peer uses instead of rejecting them', () => {
    const resume = readCapture('resume.jsonl').find((l) => l.dir === 'c2s' && l.raw!.includes('"resume"'))!;
    const d = decode(resume.raw!);
    expect(d.ok && d.notes).toContain('v1.0 form: resume inside session.hello');
    const bye = readCapture('cancel.jsonl').find((l) => l.raw?.includes('session.bye'))!;
    const b = decode(bye.raw!);
    expect(b.ok && b.notes).toContain('v1.0 form: session.bye');
    const tp = readCapture('errors.jsonl').find((l) => l.raw?.includes('"trace_id":"00-'))!;
    const t = decode(tp.raw!);
    expect(t.ok && t.notes.join()).toMatch(/full traceparent/);
  });
});
