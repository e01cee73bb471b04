import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256hex } from '../../src/tape/fingerprint.js';
import { SPEC_SHA256, SPEC_VERSION } from '../../src/tape/format.js';

describe('the pinned contract', () => {
  it(`tapes name the spec text they were recorded against: the v${SPEC_VERSION} draft in shared/ hashes to SPEC_SHA256`, () => {
    const text = readFileSync(join(import.meta.dirname, '../../../shared/spec/draft-arcp-1.1.md'));
    expect(sha256hex(text)).toBe(SPEC_SHA256);
  });
});
