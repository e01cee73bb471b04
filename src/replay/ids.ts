/**
 * Identifiers learnt while replaying: recorded value → live value. Kept consistent both ways
 * (one recorded id never maps to two live ones), and substituted into frames sent later,
 * byte-exact everywhere else.
 */
export class IdMap {
  private readonly forward = new Map<string, string>();
  private readonly reverse = new Map<string, string>();
  /** Recorded values that differ from their live value: the only ones substitution looks for. */
  private readonly changed = new Map<string, string>();
  readonly substitutions = new Map<string, { from: string; to: string; count: number }>();

  /** Returns an explanation when the pair contradicts an earlier one. */
  learn(recorded: string, live: string): string | undefined {
    const known = this.forward.get(recorded);
    if (known !== undefined) return known === live ? undefined : `recorded "${recorded}" was live "${known}" earlier`;
    const back = this.reverse.get(live);
    if (back !== undefined) return `live "${live}" already stands for recorded "${back}"`;
    this.forward.set(recorded, live);
    this.reverse.set(live, recorded);
    if (recorded !== live) this.changed.set(recorded, live);
    return undefined;
  }

  /** A string with every learnt recorded id inside it replaced by its live value (ids embedded in URIs, paths). */
  within(text: string): string {
    let out = text;
    for (const [rec, live] of this.changed) if (rec.length >= 8 && out.includes(rec)) out = out.split(rec).join(live);
    return out;
  }

  live(recorded: string): string | undefined {
    return this.forward.get(recorded);
  }

  recorded(live: string): string | undefined {
    return this.reverse.get(live);
  }

  /** Replaces every JSON string equal to a learnt recorded id with its live value. */
  apply(data: Buffer): Buffer {
    if (this.changed.size === 0) return data;
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
    if (this.changed.size <= 32) for (const [rec, live] of this.changed) replace(rec, live);
    else for (const m of text.matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
      const live = this.changed.get(m[1]);
      if (live !== undefined) replace(m[1], live);
    }
    return touched ? Buffer.from(text, 'utf8') : data;
  }
}
