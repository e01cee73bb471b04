/**
 * The bytes of text a page may embed, spent first come first served: past it, frames keep
 * their one-line summary and the page names the command that shows their bytes. That is what
 * keeps a 200k-frame report a file a browser opens, growing with what is shown.
 */
export class Budget {
  spent = 0;
  clipped = 0;
  refused = 0;
  constructor(
    readonly total: number,
    readonly perItem: number,
  ) {}

  /** `text` clipped to the per-item limit, or null when the budget is spent. */
  take(text: string): string | null {
    if (this.spent >= this.total) {
      this.refused++;
      return null;
    }
    const kept = text.length > this.perItem ? text.slice(0, this.perItem) : text;
    if (kept !== text) this.clipped++;
    this.spent += kept.length;
    return kept;
  }
}

export interface ReportLimits {
  /** Characters kept of one frame's text. */
  frameChars?: number;
  /** Characters of frame and record text the page holds in all. */
  budget?: number;
  /** job.event lines listed per job (each is a frame in the list anyway). */
  eventsPerJob?: number;
}

export const DEFAULT_LIMITS = { frameChars: 2048, budget: 24 * 1024 * 1024, eventsPerJob: 500 } as const;
