import { describe, expect, it, vi } from 'vitest';
import { jsonLine } from '../../src/render/json/emit.js';

describe('--json lines', () => {
  const keys = { privateKey: 'k.pem', publicKey: 'k.pub', keyId: 'ed25519:ab' };

  it('carry their schema name first and the body as parsed', () => {
    expect(JSON.parse(jsonLine('arcp-tape-keygen/1', keys, {}))).toEqual({ schema: 'arcp-tape-keygen/1', ...keys });
    expect(Object.keys(JSON.parse(jsonLine('arcp-tape-keygen/1', keys, {})))[0]).toBe('schema');
  });

  it('a body that does not fit fails under ARCP_STRICT_JSON=1 (tests), and for users is written whole with one warning line', () => {
    const odd = { ...keys, extra: 1 } as typeof keys;
    expect(() => jsonLine('arcp-tape-keygen/1', odd, { ARCP_STRICT_JSON: '1' })).toThrow(/does not fit its schema arcp-tape-keygen\/1/);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(JSON.parse(jsonLine('arcp-tape-keygen/1', odd, {}))).toEqual({ schema: 'arcp-tape-keygen/1', ...odd });
      expect(err).toHaveBeenCalledTimes(1);
      expect(String(err.mock.calls[0][0])).toMatch(/^arcp: warning: --json output does not fit its schema arcp-tape-keygen\/1 .*please report it\)\n$/);
    } finally {
      err.mockRestore();
    }
  });
});
