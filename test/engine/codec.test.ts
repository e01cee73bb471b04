import { describe, expect, it } from 'vitest';
import { decode } from '../../src/engine/codec.js';

const hello = { arcp: '1.1', id: 'm1', type: 'session.hello', payload: { auth: { scheme: 'bearer', token: 't' } } };

describe('codec', () => {
  it('keeps unknown top-level and payload fields', () => {
    const raw = JSON.stringify({ ...hello, x_future: { a: 1 }, payload: { ...hello.payload, extra: [1, 2] } });
    const d = decode(raw);
    expect(d.ok).toBe(true);
    if (d.ok) expect(JSON.stringify(d.message)).toBe(raw);
  });
  it.each([
    ['binary', { data: Buffer.from([0, 1, 2]), binary: true }, 'binary'],
    ['invalid UTF-8', { data: Buffer.from([0x7b, 0xff, 0x7d]), binary: false }, 'utf8'],
    ['not JSON', { data: Buffer.from('{nope'), binary: false }, 'json'],
    ['no envelope', { data: Buffer.from('[1,2]'), binary: false }, 'envelope'],
    ['wrong types', { data: Buffer.from(JSON.stringify({ ...hello, id: 7 })), binary: false }, 'envelope'],
    ['unknown type', { data: Buffer.from(JSON.stringify({ ...hello, type: 'session.frob' })), binary: false }, 'type'],
    ['bad payload', { data: Buffer.from(JSON.stringify({ arcp: '1.1', id: 'x', type: 'job.submit', payload: {} })), binary: false }, 'payload'],
  ])('refuses %s with INVALID_REQUEST at stage %s', (_n, frame, stage) => {
    const d = decode(frame);
    expect(d.ok).toBe(false);
    if (!d.ok) {
      expect(d.stage).toBe(stage);
      expect(d.error.code).toBe('INVALID_REQUEST');
      expect(d.raw).toBe(frame.data);
    }
  });
  it('accepts vendor messages as envelopes', () => {
    const d = decode(JSON.stringify({ arcp: '1.1', id: 'v', type: 'x-vendor.acme.hint', extensions: { optional: true }, payload: { x: 1 } }));
    expect(d.ok && d.vendor).toBe(true);
  });
});
