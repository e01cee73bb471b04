import type { WireCheck } from '../check.js';
import * as basic from './checks.js';
import * as sessions from './sessions.js';

/** Every passive check: run over tapes, and over every exchange of a live run. */
export const WIRE_CHECKS: WireCheck[] = [basic, sessions].flatMap((m) =>
  Object.values(m as Record<string, unknown>).filter((v): v is WireCheck => Boolean(v) && typeof v === 'object' && (v as WireCheck).kind === 'wire'),
);
