import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureLine } from '../../src/tape/interchange/capture.js';

export { CaptureLine };
export const CAPTURES_DIR = join(import.meta.dirname, '../../../shared/fixtures/peer-captures');

export function captureFiles(): string[] {
  return readdirSync(CAPTURES_DIR).filter((f) => f.endsWith('.jsonl')).sort();
}

export function readCapture(file: string): CaptureLine[] {
  return readFileSync(join(CAPTURES_DIR, file), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => CaptureLine.parse(JSON.parse(l)));
}
