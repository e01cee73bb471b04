import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

export const CAPTURES_DIR = join(import.meta.dirname, '../../../shared/fixtures/peer-captures');

/** One line of a peer capture (format in shared/fixtures/peer-captures/README.md). */
export const CaptureLine = z.looseObject({
  i: z.number(),
  ts: z.string(),
  mono_ms: z.number(),
  scenario: z.string(),
  conn: z.string(),
  dir: z.enum(['c2s', 's2c', 'meta']),
  raw: z.string().optional(),
  frame: z.unknown().optional(),
  event: z.string().optional(),
});
export type CaptureLine = z.infer<typeof CaptureLine>;

export function captureFiles(): string[] {
  return readdirSync(CAPTURES_DIR).filter((f) => f.endsWith('.jsonl')).sort();
}

export function readCapture(file: string): CaptureLine[] {
  return readFileSync(join(CAPTURES_DIR, file), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => CaptureLine.parse(JSON.parse(l)));
}
