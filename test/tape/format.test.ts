import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256hex } from '../../src/tape/fingerprint.js';
import { FrameRow, isFrameRow, SPEC_SHA256, SPEC_VERSION } from '../../src/tape/format.js';

describe('the pinned contract', () => {
  it(`tapes name the spec text they were recorded against: the v${SPEC_VERSION} draft in shared/ hashes to SPEC_SHA256`, () => {
    const text = readFileSync(join(import.meta.dirname, '../../../shared/spec/draft-arcp-1.1.md'));
    expect(sha256hex(text)).toBe(SPEC_SHA256);
  });
});

describe('the reader\'s row check', () => {
  const good = { seq: 3, channel: 1, dir: 's2c', kind: 'ws.text', mono_us: 12, wall_ms: 1_700_000_000_000, hash: 'a'.repeat(64), size: 9, flags: 0, parts: null };
  const variants: Record<string, unknown>[] = [good, { ...good, parts: [[4, 1], [5, 2]] }, { ...good, wall_ms: -5 }];
  const bad: [string, unknown][] = [
    ['seq', 0], ['seq', 1.5], ['seq', '3'], ['seq', Number.MAX_SAFE_INTEGER + 2], ['channel', 0], ['channel', null],
    ['dir', 'up'], ['kind', 'ws.gossip'], ['mono_us', -1], ['wall_ms', 1.2], ['wall_ms', undefined],
    ['hash', 'a'.repeat(63)], ['hash', ''], ['hash', 7], ['size', -3], ['flags', 0.5],
    ['parts', [[1]]], ['parts', [[1, -1]]], ['parts', [[1, 2, 3]]], ['parts', {}], ['parts', 'x'], ['parts', undefined],
  ];
  for (const [field, value] of bad) variants.push({ ...good, [field]: value });
  it.each(variants.map((v) => [JSON.stringify(v), v] as const))('gives the schema\'s verdict: %s', (_name, row) => {
    expect(isFrameRow(row)).toBe(FrameRow.safeParse(row).success);
  });
});
