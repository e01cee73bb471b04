import type { Echoes } from './echo.js';
import type { Substitution } from './report.js';
import { isTimestampKey, toPointer } from './volatile.js';
import { eachLeaf } from './walk.js';

/** ISO 8601 with a time zone: what ARCP timestamps are (`2026-05-13T23:42:00Z`, `…+02:00`). */
const ISO = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
/** A cheap test that a frame holds a timestamp at a timestamp key at all. */
const HAS_TIMESTAMP = /"(?:[a-z_]*_)?(?:at|ts|time|timestamp|after|before|since|until)":"\d{4}-\d{2}-\d{2}T/;

/**
 * Moves the timestamps a recorded client chose (`lease_constraints.expires_at`, a ping's
 * `sent_at`, a `created_after` filter) by the time elapsed since the recording, as mitmproxy's
 * `refresh` does for dates, so a runtime judging them today sees what the recorded runtime saw.
 * One shift for the whole run, set by the first frame that needs it: the values keep their
 * offsets to each other and to the frame that carried them.
 */
export class ClockShift {
  private shiftMs?: number;
  readonly substitutions = new Map<string, Substitution>();

  constructor(
    /** Learns each shifted value as an echo, so a runtime's echo of it (even inside a message) is recognised. */
    private readonly echoes: Echoes,
    private readonly now: () => number = Date.now,
  ) {}

  /** The shift in ms, once one was needed. */
  get ms(): number | undefined {
    return this.shiftMs;
  }

  /** `recordedWallMs`: when the frame was recorded. `skip`: values replaced otherwise (echoes of live ones). */
  apply(data: Buffer, recordedWallMs: number, skip: (value: string) => boolean = () => false): Buffer {
    let text = data.toString('utf8');
    if (!HAS_TIMESTAMP.test(text)) return data;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return data;
    }
    const found: { value: string; pointer: string }[] = [];
    eachLeaf(parsed, isTimestampKey, (path, v) => {
      if (typeof v === 'string' && ISO.test(v) && !skip(v)) found.push({ value: v, pointer: toPointer(path) });
    });
    if (!found.length) return data;
    this.shiftMs ??= Math.max(0, this.now() - recordedWallMs);
    if (this.shiftMs === 0) return data;
    for (const { value, pointer } of found) {
      const moved = shifted(value, this.shiftMs);
      if (!moved || moved === value) continue;
      text = text.split(JSON.stringify(value)).join(JSON.stringify(moved));
      this.echoes.pair(value, moved, pointer);
      const s = this.substitutions.get(value) ?? { from: value, to: moved, count: 0, kind: 'shift' as const, pointer };
      s.count++;
      this.substitutions.set(value, s);
    }
    return Buffer.from(text, 'utf8');
  }
}

/** `iso` moved by `ms`, written with the same precision and time zone. */
export function shifted(iso: string, ms: number): string | undefined {
  const m = ISO.exec(iso);
  if (!m) return undefined;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return undefined;
  const [, , frac = '', zone] = m;
  const offsetMin = zone === 'Z' ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  const local = new Date(t + ms + offsetMin * 60_000).toISOString(); // the wall time in that zone, spelt as UTC
  const digits = frac.length - 1;
  const fraction = digits > 0 ? '.' + local.slice(20, 23).padEnd(digits, '0').slice(0, digits) : '';
  return `${local.slice(0, 19)}${fraction}${zone}`;
}

/** "+9d 4h 3m" style, for the report. */
export function describeShift(ms: number): string {
  const parts: string[] = [];
  let s = Math.round(ms / 1000);
  for (const [unit, n] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (s >= n) {
      parts.push(`${Math.floor(s / n)}${unit}`);
      s %= n;
    }
  }
  return `+${parts.join(' ') || `${ms} ms`}`;
}
