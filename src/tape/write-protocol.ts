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
  /** `meta` holds 6 doubles a frame (channel, dir code, kind code, mono µs, wall ms or NaN, length); `data` their bytes back to back. */
  | { type: 'batch'; channels: ChannelOp[]; meta: ArrayBuffer; data: ArrayBuffer }
  | { type: 'close'; endedAt: string };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'ack'; bytes: number; frames: number }
  | { type: 'closed'; fingerprint: string; frames: number; blobs: number }
  | { type: 'error'; message: string; code?: string };
