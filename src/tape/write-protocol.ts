import type { ChannelInfo, ChannelKind, TapeMeta } from './format.js';

/** Messages between the TapeWriter and its worker thread. */
export interface ChannelOp {
  id: number;
  kind: ChannelKind;
  label: string;
  openedMs: number;
  info: ChannelInfo;
}

export type ToWorker =
  | { type: 'open'; path: string; meta: TapeMeta }
  /**
   * `meta` holds 7 doubles for each of `frames` frames (channel, dir code, kind code, mono µs,
   * wall ms or NaN, part, length); `data` their `bytes` bytes back to back. `part`: see PART.
   * Both buffers may be longer than what is used.
   */
  | { type: 'batch'; channels: ChannelOp[]; frames: number; meta: ArrayBuffer; data: ArrayBuffer; bytes: number }
  | { type: 'close'; endedAt: string };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'ack'; bytes: number }
  | { type: 'closed'; fingerprint: string; frames: number; blobs: number }
  | { type: 'error'; message: string; code?: string };

/** How a body chunk joins rows: the writer decides (live), or an import says (to rebuild rows exactly). */
export const PART = { auto: 0, first: 1, next: 2 } as const;
export const META_STRIDE = 7;
