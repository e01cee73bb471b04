import type { TapeGap, TapeMeta } from './format.js';

/** Messages between the TapeWriter and its worker thread. */
export type ToWorker =
  | { type: 'open'; path: string; meta: TapeMeta }
  /**
   * `meta` holds 7 doubles for each of `entries` entries (channel, dir code, kind code, mono µs,
   * wall ms or NaN, part, length); `data` their `bytes` bytes back to back. `part`: see PART.
   * Both buffers may be longer than what is used.
   *
   * An entry of kind CHANNEL_OPEN registers a channel in line, before its first frame: channel
   * id, channel-kind code in place of dir, the label's byte length in place of mono, opened
   * at (wall ms); its bytes are the label, then the info as JSON. In line rather than as
   * objects beside the batch, because cloning an object per HTTP exchange cost both threads.
   */
  | { type: 'batch'; entries: number; meta: ArrayBuffer; data: ArrayBuffer; bytes: number }
  | { type: 'close'; endedAt: string };

/** What the worker reports when the tape is closed. */
export interface Closed {
  fingerprint: string;
  /** Rows in the tape. */
  frames: number;
  blobs: number;
  gaps: TapeGap[];
  /** Frames received but not written (the sum of the gaps), and whether the tape says so. */
  lost?: { frames: number; bytes: number; reason: string; recorded: boolean };
  /** The end time and fingerprint were written. */
  sealed: boolean;
  /** The WAL could not be folded in (a reader held a snapshot, or the disk is full): it stays beside the tape. */
  walKept: boolean;
  problems: string[];
}

export type FromWorker =
  | { type: 'ready' }
  | { type: 'ack'; bytes: number }
  /** A batch the disk refused: `fresh` when it starts a new gap. */
  | { type: 'lost'; frames: number; bytes: number; reason: string; fresh: boolean }
  | ({ type: 'closed' } & Closed)
  | { type: 'error'; message: string; code?: string };

/** How a body chunk joins rows: the writer decides (live), or an import says (to rebuild rows exactly). */
export const PART = { auto: 0, first: 1, next: 2 } as const;
export const META_STRIDE = 7;
/** The kind code of an in-line channel registration (frame kinds are 0…n). */
export const CHANNEL_OPEN = -1;
