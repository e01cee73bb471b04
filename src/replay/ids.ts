/**
 * Identifiers learnt while replaying: recorded value → live value. Kept consistent both ways
 * (one recorded id never maps to two live ones), and substituted into frames sent later,
 * byte-exact everywhere else.
 */
export class IdMap {
  /** Pairs whose live value differs from the recorded one, both ways: the only ones substitution looks for. */
  private readonly forward = new Map<string, string>();
  private readonly reverse = new Map<string, string>();
  /**
   * Values that are the same recorded and live (most of them, when a runtime replays as
   * recorded): one set instead of an entry in each map, for tapes with millions of message ids.
   */
  private readonly same = new Set<string>();
  /**
   * Identical values not yet in `same`. A replay that matches as recorded learns a new message
   * id per frame and never looks one up again: an array push costs a fraction of a set insert
   * (measured: 200k ids, 2-3 times less). They join the set before anything could need them: a
   * pair that differs (its conflict checks), or a lookup that misses.
   */
  private unsorted: string[] = [];
  /** The last values pushed there: frames repeat their session and job ids, which must not pile up. */
  private readonly recent: (string | undefined)[] = new Array(4);
  private nextRecent = 0;
  readonly substitutions = new Map<string, { from: string; to: string; count: number }>();

  /** Returns an explanation when the pair contradicts an earlier one. */
  learn(recorded: string, live: string): string | undefined {
    const same = recorded === live;
    // The common case (a value seen before, the same both sides) looks at the big set once.
    if (same && (this.same.has(recorded) || this.recent.includes(recorded))) return undefined;
    if (!same) this.sort();
    const known = this.forward.get(recorded) ?? (!same && this.same.has(recorded) ? recorded : undefined);
    if (known !== undefined) return known === live ? undefined : `recorded "${recorded}" was live "${known}" earlier`;
    const back = this.reverse.get(live) ?? (!same && this.same.has(live) ? live : undefined);
    if (back !== undefined) return `live "${live}" already stands for recorded "${back}"`;
    if (same) {
      this.unsorted.push(recorded);
      this.recent[this.nextRecent++ & 3] = recorded;
    } else {
      this.forward.set(recorded, live);
      this.reverse.set(live, recorded);
    }
    return undefined;
  }

  /** Moves the identical values learnt since the last time into `same`. */
  private sort(): void {
    if (!this.unsorted.length) return;
    for (const v of this.unsorted) this.same.add(v);
    this.unsorted = [];
  }

  /** Whether `v` was learnt the same both sides (a miss first sorts what waits). */
  private isSame(v: string): boolean {
    if (this.same.has(v)) return true;
    if (!this.unsorted.length) return false;
    this.sort();
    return this.same.has(v);
  }

  /** A string with every learnt recorded id inside it replaced by its live value (ids embedded in URIs, paths). */
  within(text: string): string {
    let out = text;
    for (const [rec, live] of this.forward) if (rec.length >= 8 && out.includes(rec)) out = out.split(rec).join(live);
    return out;
  }

  live(recorded: string): string | undefined {
    return this.forward.get(recorded) ?? (this.isSame(recorded) ? recorded : undefined);
  }

  recorded(live: string): string | undefined {
    return this.reverse.get(live) ?? (this.isSame(live) ? live : undefined);
  }

  /** Replaces every JSON string equal to a learnt recorded id with its live value. */
  apply(data: Buffer): Buffer {
    if (this.forward.size === 0) return data;
    let text = data.toString('utf8');
    let touched = false;
    const replace = (rec: string, live: string) => {
      const quoted = JSON.stringify(rec);
      if (!text.includes(quoted)) return;
      const parts = text.split(quoted);
      text = parts.join(JSON.stringify(live));
      touched = true;
      const s = this.substitutions.get(rec) ?? { from: rec, to: live, count: 0 };
      s.count += parts.length - 1;
      this.substitutions.set(rec, s);
    };
    if (this.forward.size <= 32) for (const [rec, live] of this.forward) replace(rec, live);
    else for (const m of text.matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
      const live = this.forward.get(m[1]);
      if (live !== undefined) replace(m[1], live);
    }
    return touched ? Buffer.from(text, 'utf8') : data;
  }
}
