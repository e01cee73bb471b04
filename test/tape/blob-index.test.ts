import { describe, expect, it } from 'vitest';
import { BlobIndex } from '../../src/tape/blob-index.js';
import { FLAG, FRAME_KINDS } from '../../src/tape/format.js';

const TEXT = FRAME_KINDS.indexOf('ws.text');
const HEAD = FRAME_KINDS.indexOf('http.response');

describe('blob index', () => {
  it('gives each hash one id, and reuses a check result only for clean bytes of the same kind', () => {
    const ix = new BlobIndex();
    expect(ix.put('a', true, TEXT, FLAG.notJson)).toEqual({ blob: 1, added: true });
    expect(ix.put('b', false, TEXT, FLAG.redacted)).toEqual({ blob: 2, added: true });
    expect(ix.put('a', true, TEXT, FLAG.notJson)).toEqual({ blob: 1, added: false });
    expect(ix.checked('a', TEXT)).toEqual({ blob: 1, flags: FLAG.notJson, mode: 'opaque' });
    expect(ix.checked('a', HEAD)).toBeUndefined(); // same bytes, another kind: check again
    expect(ix.checked('b', TEXT)).toBeUndefined(); // stored redacted: the raw bytes differ
    expect(ix.checked('c', TEXT)).toBeUndefined();
    ix.put('b', true, HEAD, 0, 'sse'); // the same stored bytes, now seen as they arrived
    expect(ix.checked('b', HEAD)).toEqual({ blob: 2, flags: 0, mode: 'sse' });
    expect(ix.size).toBe(2);
  });

  it('keeps ids and flags exact past 2^31 entries worth of id space', () => {
    const ix = new BlobIndex();
    (ix as unknown as { nextId: number }).nextId = 2 ** 33 + 7;
    ix.put('big', true, HEAD, FLAG.large | FLAG.sse, 'json');
    expect(ix.checked('big', HEAD)).toEqual({ blob: 2 ** 33 + 7, flags: FLAG.large | FLAG.sse, mode: 'json' });
  });
});
