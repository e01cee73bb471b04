import type { Substitution } from './report.js';
import { isTimestampKey, toPointer } from './volatile.js';
import { eachLeaf } from './walk.js';

/** Rules whose values the sender chose, so an echo of them must carry the live value. */
const ECHOED_RULE = /^(preset: timestamp|user:)/;
/** Pairs kept: echoes follow what they echo closely (a submit's constraint in its job.accepted). */
const KEEP = 256;

/**
 * Volatile values the live side chose where the recording has others (a client's
 * `expires_at`, a user-volatile field): recorded → live, the latest pairing winning. A frame
 * replay sends later carries the live value wherever the recorded one reappears (the recorded
 * peer echoed it), as the same bytes with only that value replaced. Values the recorded peer
 * derived from an echoed one are not equal to it, so they stay as recorded and are noted.
 */
export class Echoes {
  /** Recorded string → live string. */
  private readonly strings = new Map<string, { live: string; pointer: string }>();
  /** Numbers are substituted only under the key they were learnt at: `"key":123` is too common a shape otherwise. */
  private readonly numbers = new Map<string, { rec: number; live: number; pointer: string }[]>();
  readonly substitutions = new Map<string, Substitution>();

  get size(): number {
    return this.strings.size + this.numbers.size;
  }

  learn(recorded: string | number, live: string | number, path: string[], rule: string): void {
    if (recorded === live || !ECHOED_RULE.test(rule)) return;
    const pointer = toPointer(path);
    if (typeof recorded === 'string') {
      if (recorded.length >= 4) this.pair(recorded, String(live), pointer);
      return;
    }
    const key = path[path.length - 1] ?? '';
    const list = (this.numbers.get(key) ?? []).filter((n) => n.rec !== recorded);
    list.push({ rec: recorded, live: live as number, pointer });
    if (list.length > KEEP) list.shift();
    this.numbers.set(key, list);
  }

  /** Learns that `recorded` stands for `live` from here on (the newest pairs are kept). */
  pair(recorded: string, live: string, pointer: string): void {
    this.strings.delete(recorded);
    this.strings.set(recorded, { live, pointer });
    if (this.strings.size > KEEP) this.strings.delete(this.strings.keys().next().value!);
  }

  /** A string with every learnt recorded value inside it replaced by its live one ("Lease expired at …"). */
  within(text: string): string {
    let out = text;
    for (const [rec, e] of this.strings) if (out.includes(rec)) out = out.split(rec).join(e.live);
    return out;
  }

  /** Whether `value` is the live counterpart of a recorded one (put there by an echo). */
  isLive(value: string): boolean {
    for (const e of this.strings.values()) if (e.live === value) return true;
    return false;
  }

  /**
   * Replaces echoed recorded values in an outgoing frame. `kept` lists the frame's other
   * timestamps (the recorded side's own, or derived from an echoed one): they stay as recorded.
   */
  apply(data: Buffer): { data: Buffer; kept: string[] } {
    if (this.size === 0) return { data, kept: [] };
    let text = data.toString('utf8');
    const replaced = new Set<string>();
    let touched = false;
    for (const [rec, e] of this.strings) {
      const quoted = JSON.stringify(rec);
      if (!text.includes(quoted)) continue;
      const parts = text.split(quoted);
      text = parts.join(JSON.stringify(e.live));
      replaced.add(e.live);
      touched = true;
      this.count(rec, e.live, parts.length - 1, e.pointer);
    }
    for (const [key, list] of this.numbers) {
      const at = JSON.stringify(key) + ':';
      if (!text.includes(at)) continue;
      for (const n of list) {
        const re = new RegExp(`${escape(at)}${escape(String(n.rec))}(?=[,}\\]\\s])`, 'g');
        let hits = 0;
        text = text.replace(re, () => (hits++, at + String(n.live)));
        if (hits) {
          touched = true;
          this.count(String(n.rec), String(n.live), hits, n.pointer);
        }
      }
    }
    if (!touched) return { data, kept: [] };
    return { data: Buffer.from(text, 'utf8'), kept: replaced.size ? keptTimestamps(text, replaced) : [] };
  }

  private count(from: string, to: string, n: number, pointer: string): void {
    const s = this.substitutions.get(from) ?? { from, to, count: 0, kind: 'echo' as const, pointer };
    s.count += n;
    s.to = to;
    this.substitutions.set(from, s);
  }
}

/** Timestamps in a frame that were not replaced by a live value. */
function keptTimestamps(text: string, replaced: Set<string>): string[] {
  const kept: string[] = [];
  try {
    eachLeaf(JSON.parse(text), isTimestampKey, (path, v) => {
      if (typeof v === 'string' && !replaced.has(v)) kept.push(toPointer(path));
    });
  } catch {
    // not JSON: nothing to list
  }
  return kept;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
