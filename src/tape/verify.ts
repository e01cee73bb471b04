import { Fingerprint, sha256hex } from './fingerprint.js';
import type { TapeGap } from './format.js';
import { TapeReader } from './reader.js';

export interface VerifyReport {
  path: string;
  ok: boolean;
  frames: number;
  blobs: number;
  fingerprint: string;
  /** The fingerprint sealed at close; absent when the recorder was killed. */
  storedFingerprint?: string;
  /** True when the recording ended without sealing (kill -9, power loss): what is there is still usable. */
  unsealed: boolean;
  /** The recorder writing the tape now, if any: what was checked is what it has committed so far. */
  live?: { pid: number; started_at: string };
  /** Frames the recorder forwarded but could not write (each also a problem). */
  gaps: TapeGap[];
  problems: string[];
}

/** One line for a gap, in the terms of `arcp tape show`. */
export const gapLine = (g: TapeGap): string =>
  `${g.frames.toLocaleString('en-US')} frames (${g.bytes.toLocaleString('en-US')} bytes, channel${g.channels.length === 1 ? '' : 's'} ${g.channels.join(', ')}) were forwarded but not recorded after seq ${g.after_seq}, from ${(g.from_mono_us / 1e6).toFixed(3)} s to ${(g.to_mono_us / 1e6).toFixed(3)} s (${new Date(g.from_wall_ms).toISOString()}): ${g.reason}${g.cut_rows ? `; the bodies of frames ${g.cut_rows.join(', ')} lack them` : ''}`;

/** Recomputes the fingerprint and every blob hash, and checks the frame log has no holes. */
export function verifyTape(path: string): VerifyReport {
  const tape = TapeReader.open(path);
  try {
    const gaps = tape.meta.gaps ?? [];
    const problems: string[] = gaps.map(gapLine);
    const live = tape.live && { pid: tape.live.pid, started_at: tape.live.started_at };
    const integrity = tape.integrity();
    if (integrity !== 'ok') problems.push(`SQLite integrity: ${integrity}`);
    let blobs = 0;
    for (const b of tape.blobs()) {
      blobs++;
      if (b.data.length !== b.size) problems.push(`blob ${b.hash.slice(0, 12)}… is ${b.data.length} bytes, recorded as ${b.size}`);
      else if (sha256hex(b.data) !== b.hash) problems.push(`blob ${b.hash.slice(0, 12)}… does not hash to its name`);
    }
    const orphans = tape.orphanFrames();
    if (orphans.length) {
      problems.push(`frames whose bytes are missing: ${orphans.slice(0, 10).join(', ')}${orphans.length > 10 ? ', …' : ''}`);
      return { path, ok: false, frames: tape.frameCount(), blobs, fingerprint: '', storedFingerprint: tape.meta.fingerprint, unsealed: !tape.meta.ended_at, live, gaps, problems };
    }
    const fp = new Fingerprint();
    let expected = 1;
    for (const r of tape.rows()) {
      if (r.seq !== expected) problems.push(`frame log jumps from ${expected - 1} to ${r.seq}`);
      expected = r.seq + 1;
      if (r.parts && r.parts.reduce((n, [size]) => n + size, 0) !== r.size) problems.push(`frame ${r.seq}: its chunk sizes do not add up to its ${r.size} bytes`);
      fp.add(r.channel, r.dir, r.kind, r.hash);
    }
    const fingerprint = fp.digest();
    const stored = tape.meta.fingerprint;
    if (stored && stored !== fingerprint) problems.push(`fingerprint is ${fingerprint}, the tape was sealed with ${stored}`);
    if (tape.meta.frame_count !== undefined && tape.meta.frame_count !== fp.count) problems.push(`${fp.count} frames, the tape was sealed with ${tape.meta.frame_count}`);
    return { path, ok: problems.length === 0, frames: fp.count, blobs, fingerprint, storedFingerprint: stored, unsealed: !tape.meta.ended_at, live, gaps, problems: problems.slice(0, 50) };
  } finally {
    tape.close();
  }
}
