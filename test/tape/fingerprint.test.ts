import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Fingerprint, sha256hex } from '../../src/tape/fingerprint.js';

describe('the tape fingerprint', () => {
  it('is fp1: and the sha256 of one `channel dir kind hash` line per frame, and can be read more than once', () => {
    const fp = new Fingerprint();
    expect(fp.count).toBe(0);
    expect(fp.digest()).toBe('fp1:' + createHash('sha256').digest('hex'));
    fp.add(1, 'c2s', 'ws.text', 'a'.repeat(64));
    fp.add(12, 's2c', 'http.response.body', 'b'.repeat(64));
    const lines = `1 c2s ws.text ${'a'.repeat(64)}\n12 s2c http.response.body ${'b'.repeat(64)}\n`;
    const want = 'fp1:' + createHash('sha256').update(lines).digest('hex');
    expect(fp.digest()).toBe(want);
    expect(fp.digest()).toBe(want); // digest() does not end the running hash
    expect(fp.count).toBe(2);
    fp.add(2, 'meta', 'transport.close', 'c'.repeat(64));
    expect(fp.digest()).toBe('fp1:' + createHash('sha256').update(lines + `2 meta transport.close ${'c'.repeat(64)}\n`).digest('hex'));
    expect(fp.count).toBe(3);
  });

  it('a long log (hashed a batch of lines at a time) digests like one sha256 over every line, read at any point', () => {
    const fp = new Fingerprint();
    const whole = createHash('sha256');
    for (let i = 0; i < 2000; i++) {
      const line = `${i % 7} ${i % 2 ? 's2c' : 'c2s'} ws.text ${sha256hex(String(i))}\n`;
      fp.add(i % 7, i % 2 ? 's2c' : 'c2s', 'ws.text', sha256hex(String(i)));
      whole.update(line);
      if (i % 333 === 0) expect(fp.digest()).toBe('fp1:' + whole.copy().digest('hex'));
    }
    expect(fp.digest()).toBe('fp1:' + whole.digest('hex'));
    expect(fp.count).toBe(2000);
  });

  it('frames in another order give another fingerprint', () => {
    const a = new Fingerprint();
    const b = new Fingerprint();
    a.add(1, 'c2s', 'ws.text', 'x');
    a.add(1, 's2c', 'ws.text', 'y');
    b.add(1, 's2c', 'ws.text', 'y');
    b.add(1, 'c2s', 'ws.text', 'x');
    expect(a.digest()).not.toBe(b.digest());
  });

  it('sha256hex is the hex sha256 of bytes or of a string\'s UTF-8', () => {
    expect(sha256hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256hex(Buffer.from('naïve', 'utf8'))).toBe(createHash('sha256').update('naïve').digest('hex'));
    expect(sha256hex('naïve')).toBe(sha256hex(Buffer.from('naïve', 'utf8')));
  });
});
