import { DIRECTIONS, FRAME_KINDS, type FrameRow } from './format.js';
import type { TapeFrame } from './reader.js';

/**
 * Frames as a page that crosses threads cheaply: numbers in one typed array, the hashes in one
 * string, every frame's bytes in one transferable buffer (read back as views, not copies).
 */
export interface FramePage {
  nums: Float64Array;
  hashes: string;
  /** Chunk lists of the frames that have one: [index in page, parts]. */
  parts: [number, [number, number][]][];
  data: ArrayBuffer;
}

const FIELDS = 9; // seq, channel, dir, kind, mono_us, wall_ms, size, flags, byte length
const HASH = 64;

export function packPage(frames: TapeFrame[]): FramePage {
  const nums = new Float64Array(frames.length * FIELDS);
  const total = frames.reduce((n, f) => n + f.data.length, 0);
  const bytes = new Uint8Array(total);
  const parts: FramePage['parts'] = [];
  let hashes = '';
  let at = 0;
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    const o = i * FIELDS;
    nums[o] = f.seq;
    nums[o + 1] = f.channel;
    nums[o + 2] = DIRECTIONS.indexOf(f.dir);
    nums[o + 3] = FRAME_KINDS.indexOf(f.kind);
    nums[o + 4] = f.mono_us;
    nums[o + 5] = f.wall_ms;
    nums[o + 6] = f.size;
    nums[o + 7] = f.flags;
    nums[o + 8] = f.data.length;
    hashes += f.hash;
    if (f.parts) parts.push([i, f.parts]);
    bytes.set(f.data, at);
    at += f.data.length;
  }
  return { nums, hashes, parts, data: bytes.buffer };
}

export function unpackPage(p: FramePage): TapeFrame[] {
  const n = p.nums.length / FIELDS;
  const out: TapeFrame[] = new Array(n);
  const parts = new Map(p.parts);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const o = i * FIELDS;
    const len = p.nums[o + 8];
    out[i] = {
      seq: p.nums[o],
      channel: p.nums[o + 1],
      dir: DIRECTIONS[p.nums[o + 2]],
      kind: FRAME_KINDS[p.nums[o + 3]],
      mono_us: p.nums[o + 4],
      wall_ms: p.nums[o + 5],
      hash: p.hashes.slice(i * HASH, (i + 1) * HASH),
      size: p.nums[o + 6],
      flags: p.nums[o + 7],
      parts: (parts.get(i) ?? null) as FrameRow['parts'],
      data: Buffer.from(p.data, at, len),
    };
    at += len;
  }
  return out;
}
