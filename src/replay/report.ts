import type { Direction } from '../tape/format.js';
import type { FieldDiff } from './compare.js';

export interface ContextFrame {
  seq: number;
  dir: Direction;
  what: string;
  /** The frame the divergence is about. */
  here?: boolean;
}

export type DivergenceReason =
  | 'mismatch' // the live frame differs from the recorded one
  | 'extra' // the live side sent a frame the recording does not have
  | 'missing' // the recording has a frame the live side never sent
  | 'closed' // the live side closed before the recording ended
  | 'order' // event_seq not gap-free, or a frame on a stream that has ended
  | 'unmatched-request'; // HTTP: no recorded exchange matches

export interface Divergence {
  reason: DivergenceReason;
  channel: number;
  /** The recorded frame at which the runs part (0 when the live side is past the recording's end). */
  seq: number;
  dir: Direction;
  message: string;
  expected?: string;
  actual?: string;
  fields: FieldDiff[];
  context: ContextFrame[];
  /** HTTP: the recorded request closest to the live one, and how they differ. */
  closest?: { channel: number; request: string; fields: FieldDiff[] };
}

export interface Substitution {
  from: string;
  to: string;
  count: number;
  /**
   * `id` (absent in older reports): an identifier one side generated, mapped consistently;
   * `echo`: a value the live side chose, put where the recorded peer echoed the recorded one;
   * `shift`: a timestamp the recorded client chose, moved by the time since recording.
   */
  kind?: 'id' | 'echo' | 'shift';
  /** Where the value was learnt or found. */
  pointer?: string;
}

export interface ReplayReport {
  tape: string;
  mode: 'runtime' | 'client' | 'http' | 'diff';
  ok: boolean;
  /** The tape's fingerprint, and the one computed over the frames this run went through. */
  tapeFingerprint: string;
  replayFingerprint: string;
  frames: { total: number; replayed: number };
  divergences: Divergence[];
  substitutions: Substitution[];
  /** Things done that are not divergences: faults injected, heartbeats answered live. */
  notes: string[];
  /** Why the run ended before the recording did without a divergence (SIGINT): such a run is not clean. */
  incomplete?: string;
  /** The program under test run as the client (`replay … -- npm test`), and how it exited: a non-zero exit fails the run. */
  command?: { argv: string[]; exitCode: number };
  durationMs: number;
}

/** Shortened frame text for reports. */
export const clip = (b: Buffer | string, max = 600): string => {
  const s = typeof b === 'string' ? b : b.toString('utf8');
  return s.length > max ? `${s.slice(0, max)}… (${s.length} chars)` : s;
};
