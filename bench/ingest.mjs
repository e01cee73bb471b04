// Tape ingest: frames handed to a TapeWriter until the tape is sealed (worker hashes, dedupes, writes).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TapeWriter } from '../dist/src/tape/writer.js';
import { defaultRules } from '../dist/src/tape/redact.js';
import { eventFrame } from './frames.mjs';

export async function ingest({ frames = 200_000, duplicateShare = 0.3 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'arcp-bench-'));
  const unique = Math.round(frames * (1 - duplicateShare));
  const bufs = Array.from({ length: frames }, (_, i) => eventFrame(i < unique ? i : i % unique));
  const w = await TapeWriter.create({ path: join(dir, 'ingest.tape'), commandLine: ['bench'], redaction: defaultRules() });
  const ch = w.channel('ws', 'bench');
  const t0 = performance.now();
  for (const b of bufs) w.frame(ch, 's2c', 'ws.text', b);
  const s = await w.close();
  const ms = performance.now() - t0;
  rmSync(dir, { recursive: true, force: true });
  return { frames: s.frames, blobs: s.blobs, ms, perSec: s.frames / (ms / 1000) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await ingest();
  console.log(`ingest: ${r.frames} frames (${r.blobs} distinct) in ${r.ms.toFixed(0)} ms = ${Math.round(r.perSec)} frames/s`);
}
