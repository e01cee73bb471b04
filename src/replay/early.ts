import type { IdMap } from './ids.js';

/** A live frame that arrived before the recording's cursor reached its recorded frame. */
export interface Early {
  data: Buffer;
  m: Record<string, unknown> | undefined;
  /** Arrival order on its connection. */
  n: number;
}

/**
 * A connection's early frames, by the stream they name live (`session`, `job:<live id>`,
 * `pong:<nonce>`): a recorded frame that comes up is tried against the frames of its own
 * stream only, so a runtime that sends one job's thousands of frames before another's costs
 * a lookup per frame, not a pass over all that wait.
 */
export class EarlyFrames {
  /** Each stream's frames in arrival order; `head` skips those already taken. */
  private readonly byKey = new Map<string, { q: Early[]; head: number }>();
  private count = 0;
  private arrivals = 0;

  get size(): number {
    return this.count;
  }

  push(key: string, data: Buffer, m: Record<string, unknown> | undefined): void {
    const e = { data, m, n: this.arrivals++ };
    const list = this.byKey.get(key);
    if (list) list.q.push(e);
    else this.byKey.set(key, { q: [e], head: 0 });
    this.count++;
  }

  /** The first to arrive of those still waiting. */
  first(): Early | undefined {
    let best: Early | undefined;
    for (const { q, head } of this.byKey.values()) if (!best || q[head].n < best.n) best = q[head];
    return best;
  }

  /**
   * Offers the frames that may answer a recorded frame of stream `recordedKey` to `match`, in
   * arrival order; those it takes leave. A recorded job not yet paired with a live one may be
   * answered by any live job not yet paired either.
   */
  offer(recordedKey: string, ids: IdMap, match: (e: Early) => boolean): void {
    if (!this.count) return;
    for (const key of this.candidates(recordedKey, ids)) {
      const list = this.byKey.get(key)!;
      const before = list.q.length - list.head;
      if (isPaired(key, ids)) {
        // One stream live and recorded: frames answer its recorded ones in order, so the first
        // refused means the recording has no more of them yet.
        while (list.head < list.q.length && match(list.q[list.head])) list.head++;
      } else {
        // Not paired yet: which recorded job a frame answers depends on its type; try each.
        list.q = list.q.slice(list.head).filter((e) => !match(e));
        list.head = 0;
      }
      this.count -= before - (list.q.length - list.head);
      if (list.head === list.q.length) this.byKey.delete(key);
      else if (list.head > 1024) {
        list.q = list.q.slice(list.head);
        list.head = 0;
      }
    }
  }

  private candidates(recordedKey: string, ids: IdMap): string[] {
    if (!recordedKey.startsWith('job:')) return this.byKey.has(recordedKey) ? [recordedKey] : [];
    const live = ids.live(recordedKey.slice(4));
    if (live !== undefined) return this.byKey.has(`job:${live}`) ? [`job:${live}`] : [];
    return [...this.byKey.keys()].filter((k) => !isPaired(k, ids));
  }
}

/** A stream whose frames all answer one recorded stream: any but a live job not yet paired with a recorded one. */
const isPaired = (key: string, ids: IdMap): boolean => !key.startsWith('job:') || ids.recorded(key.slice(4)) !== undefined;
