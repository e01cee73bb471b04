import { describe, expect, it } from 'vitest';
import { EarlyFrames, type Early } from '../../src/replay/early.js';
import { IdMap } from '../../src/replay/ids.js';

const frame = (text: string) => ({ data: Buffer.from(text), m: JSON.parse(text) as Record<string, unknown> });
const texts = (es: Early[]) => es.map((e) => e.data.toString());

/** Offers the frames for `key`, accepting those `accept` names; returns the ones offered, in order. */
function offer(early: EarlyFrames, key: string, ids: IdMap, accept: (text: string) => boolean): Early[] {
  const offered: Early[] = [];
  early.offer(key, ids, (e) => (offered.push(e), accept(e.data.toString())));
  return offered;
}

describe('early live frames, by stream', () => {
  it('count, and name the first to arrive across streams', () => {
    const e = new EarlyFrames();
    expect(e.size).toBe(0);
    expect(e.first()).toBeUndefined();
    for (const [key, t] of [['job:b', '{"n":1}'], ['session', '{"n":2}'], ['job:b', '{"n":3}']] as const) e.push(key, frame(t).data, frame(t).m);
    expect(e.size).toBe(3);
    expect(e.first()?.data.toString()).toBe('{"n":1}');
    offer(e, 'job:b', idsWith([['b', 'b']]), () => true);
    expect(e.size).toBe(1);
    expect(e.first()?.data.toString()).toBe('{"n":2}');
  });

  it('the first to arrive is found whichever stream holds it, and a stream emptied leaves', () => {
    const e = new EarlyFrames();
    const ids = idsWith([['b', 'b']]);
    e.push('job:b', Buffer.from('b0'), undefined);
    e.push('session', Buffer.from('s1'), undefined);
    e.push('job:b', Buffer.from('b2'), undefined);
    offer(e, 'job:b', ids, (t) => t === 'b0');
    expect(e.first()?.data.toString()).toBe('s1');
    offer(e, 'job:b', ids, () => true);
    expect(e.first()?.data.toString()).toBe('s1');
    expect(e.size).toBe(1);
    const f = new EarlyFrames();
    f.push('session', Buffer.from('s0'), undefined);
    f.push('job:b', Buffer.from('b1'), undefined);
    offer(f, 'job:b', ids, () => true);
    expect(f.first()?.data.toString()).toBe('s0');
    expect(texts(offer(f, 'job:b', ids, () => true))).toEqual([]);
  });

  it('a paired stream is offered in arrival order and stops at the first refused frame', () => {
    const e = new EarlyFrames();
    for (let i = 0; i < 5; i++) e.push('job:L', Buffer.from(`${i}`), undefined);
    const ids = idsWith([['R', 'L']]);
    expect(texts(offer(e, 'job:R', ids, (t) => t === '0' || t === '1'))).toEqual(['0', '1', '2']);
    expect(e.size).toBe(3);
    // Only the live job paired with the recorded one is offered.
    e.push('job:other', Buffer.from('x'), undefined);
    expect(texts(offer(e, 'job:R', ids, () => true))).toEqual(['2', '3', '4']);
    expect(e.size).toBe(1);
    expect(texts(offer(e, 'session', ids, () => true))).toEqual([]);
  });

  it('a recorded job not yet paired is offered every frame of every live job not yet paired, and keeps the refused', () => {
    const e = new EarlyFrames();
    e.push('job:x', Buffer.from('x1'), undefined);
    e.push('job:paired', Buffer.from('p1'), undefined);
    e.push('job:y', Buffer.from('y1'), undefined);
    e.push('job:x', Buffer.from('x2'), undefined);
    e.push('session', Buffer.from('s1'), undefined);
    const ids = idsWith([['R0', 'paired']]);
    expect(texts(offer(e, 'job:R', ids, (t) => t === 'x2'))).toEqual(['x1', 'x2', 'y1']);
    expect(e.size).toBe(4);
    expect(texts(offer(e, 'job:R', ids, () => false))).toEqual(['x1', 'y1']);
  });

  it('session and pong streams are offered to their own recorded stream only', () => {
    const e = new EarlyFrames();
    e.push('session', Buffer.from('s'), undefined);
    e.push('pong:n1', Buffer.from('p'), undefined);
    const ids = new IdMap();
    expect(texts(offer(e, 'pong:n2', ids, () => true))).toEqual([]);
    expect(texts(offer(e, 'pong:n1', ids, () => true))).toEqual(['p']);
    expect(texts(offer(e, 'session', ids, () => true))).toEqual(['s']);
    expect(e.size).toBe(0);
  });

  it('thousands taken one at a time: order and count stay right', () => {
    const e = new EarlyFrames();
    const ids = idsWith([['R', 'L']]);
    for (let i = 0; i < 5000; i++) e.push('job:L', Buffer.from(`${i}`), undefined);
    const got: string[] = [];
    for (let i = 0; i < 4999; i++) {
      let once = false;
      e.offer('job:R', ids, (f) => (once ? false : ((once = true), got.push(f.data.toString()), true)));
    }
    expect(got).toEqual(Array.from({ length: 4999 }, (_, i) => `${i}`));
    expect(e.size).toBe(1);
    expect(e.first()?.data.toString()).toBe('4999');
  });
});

function idsWith(pairs: [string, string][]): IdMap {
  const ids = new IdMap();
  for (const [r, l] of pairs) ids.learn(r, l);
  return ids;
}
