import { Fingerprint } from '../tape/fingerprint.js';
import { describeFrame } from '../tape/inspect.js';
import type { ChannelRow } from '../tape/format.js';
import { prefetchAvailable, prefetchFrames } from '../tape/prefetch.js';
import { TapeReader, type TapeFrame } from '../tape/reader.js';
import type { ContextFrame } from './report.js';
import { isClose } from './frames.js';
import { SeqSet } from './seq-set.js';

/** How far a replay has got, for a progress line: frames gone through, of the tape's `total`. */
export interface ReplayProgress {
  frames: number;
  total: number;
}

/** Tapes of at least this many frames are read ahead on a thread (below it, starting one costs more than it saves). */
const PREFETCH_FROM = 20_000;

/**
 * Recorded channels as a script to play: their frames in seq order, read lazily from the tape
 * (each script has its own connection, so memory stays flat however long the tape). One
 * channel for a player; every connection of a tape for the driver, which plays them together.
 */
export class ChannelScript {
  private readonly reader: TapeReader;
  private readonly it: Iterator<TapeFrame>;
  private buffered: TapeFrame[] = [];
  private ended = false;
  /** Seqs of the frames this run went through, for the replay fingerprint. */
  readonly consumed = new SeqSet();
  /** The same frames fingerprinted as they pass (in seq order within a channel). */
  readonly fingerprint = new Fingerprint();

  /** The first of the channels (the only one, for a player). */
  readonly channel: ChannelRow;

  constructor(
    readonly path: string,
    channels: ChannelRow | ChannelRow[],
    private readonly progress?: ReplayProgress,
  ) {
    const list = Array.isArray(channels) ? channels : [channels];
    this.channel = list[0];
    this.reader = TapeReader.open(path);
    const q = list.length === 1 ? { channel: list[0].id } : { channels: list.map((c) => c.id) };
    // A long tape is read on another thread, so playing it does not wait on SQLite and sha256.
    this.it = this.reader.lastSeq() >= PREFETCH_FROM && prefetchAvailable() ? prefetchFrames(path, q) : this.reader.frames(q);
  }

  /** The frame `i` ahead of the cursor (0 = next), or undefined past the end. */
  peek(i = 0): TapeFrame | undefined {
    while (this.buffered.length <= i && !this.ended) {
      const n = this.it.next();
      if (n.done) this.ended = true;
      else this.buffered.push(n.value);
    }
    return this.buffered[i];
  }

  next(): TapeFrame | undefined {
    const f = this.peek();
    if (f) {
      this.buffered.shift();
      this.consumed.add(f.seq);
      this.fingerprint.add(f.channel, f.dir, f.kind, f.hash);
      if (this.progress) this.progress.frames++;
    }
    return f;
  }

  /** Whether only transport events (and closes) remain. */
  get finished(): boolean {
    for (let i = 0; ; i++) {
      const f = this.peek(i);
      if (!f) return true;
      if (f.dir !== 'meta' && !isClose(f)) return false;
    }
  }

  /** Consumes what is left (transport events at the end), so the fingerprint covers them. */
  drain(): void {
    while (this.next());
  }

  /** The recorded frames of `channel` around `seq` (±3), for divergence reports. */
  context(seq: number, channel = this.channel.id): ContextFrame[] {
    const r = TapeReader.open(this.path);
    try {
      const rows: ContextFrame[] = [];
      // The three before, kept as a rolling window: a divergence deep in a long tape reads, never holds, the prefix.
      const before: ContextFrame[] = [];
      for (const f of r.frames({ channel, toSeq: seq - 1 })) {
        before.push({ seq: f.seq, dir: f.dir, what: describeFrame(f) });
        if (before.length > 3) before.shift();
      }
      rows.push(...before);
      let n = 0;
      for (const f of r.frames({ channel, fromSeq: seq })) {
        rows.push({ seq: f.seq, dir: f.dir, what: describeFrame(f), here: f.seq === seq || undefined });
        if (++n > 3) break;
      }
      return rows;
    } finally {
      r.close();
    }
  }

  close(): void {
    this.it.return?.(undefined);
    this.reader.close();
  }
}
