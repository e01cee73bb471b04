import { requirement, severityOf, type Level } from './requirements.js';

/** What a check (or one finding of it) comes to. */
export type Outcome = 'pass' | 'fail' | 'warning' | 'info' | 'skipped';
const RANK: Record<Outcome, number> = { fail: 4, warning: 3, pass: 2, info: 1, skipped: 0 };

/** Where the draft and the observed peer differ in a way wire-notes.md names. */
export interface Deviation {
  /** `v1.0 form`: the older form 1.1 rewrote; `deviates from draft`: the peer's own difference. */
  kind: 'v1.0 form' | 'deviates from draft';
  /** The draft sentence, quoted. */
  quote: string;
  section: string;
}

export interface Finding {
  requirement: string;
  outcome: Outcome;
  message: string;
  deviation?: Deviation;
  /** Frames of the check's tape that show it (tape seqs). */
  seqs?: number[];
  /** The tape those seqs are in, when it is not the check's own (wire checks). */
  tape?: string;
}

/** Something a finding can point at: a logged frame, or its seq. */
export type EvidenceRef = { seq: number; tape?: string } | number | undefined;

/** Thrown inside a check: its precondition cannot be reached; the check is skipped, never passed. */
export class Skip extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * Collects one check's findings. A violation's outcome follows the requirement's level (MUST →
 * fail, SHOULD → warning, MAY → info) unless the check says otherwise, with the reason.
 */
export class Judge {
  readonly findings: Finding[] = [];

  private add(req: string, outcome: Outcome, message: string, ev: EvidenceRef[] = [], deviation?: Deviation): void {
    requirement(req); // unknown ids are a suite bug: fail loudly
    const refs = ev.filter((e): e is Exclude<EvidenceRef, undefined> => e !== undefined).map((e) => (typeof e === 'number' ? { seq: e } : e));
    const f: Finding = { requirement: req, outcome, message };
    if (refs.length) f.seqs = [...new Set(refs.map((r) => r.seq))].sort((a, b) => a - b);
    const tape = refs.find((r) => r.tape)?.tape;
    if (tape) f.tape = tape;
    if (deviation) f.deviation = deviation;
    this.findings.push(f);
  }

  pass(req: string, message: string, ...ev: EvidenceRef[]): void {
    this.add(req, 'pass', message, ev);
  }

  /** A rule broken. `as` lowers or raises the outcome (say why in the message). */
  violation(req: string, message: string, ev: EvidenceRef[] = [], as?: Level): void {
    this.add(req, severityOf(as ?? requirement(req).level), message, ev);
  }

  /** Pass or violation, one of two messages. */
  expect(ok: boolean, req: string, passMsg: string, failMsg: string, ev: EvidenceRef[] = [], as?: Level): boolean {
    if (ok) this.add(req, 'pass', passMsg, ev);
    else this.violation(req, failMsg, ev, as);
    return ok;
  }

  info(req: string, message: string, ...ev: EvidenceRef[]): void {
    this.add(req, 'info', message, ev);
  }

  /** This requirement was not exercised by the traffic (precondition absent): neither pass nor fail. */
  notExercised(req: string, message: string): void {
    this.add(req, 'skipped', message);
  }

  /**
   * The peer used the form wire-notes.md names instead of the draft's: accepted, with a warning that
   * quotes the draft sentence (`--strict` makes it a failure).
   */
  deviation(req: string, kind: Deviation['kind'], observed: string, ...ev: EvidenceRef[]): void {
    const r = requirement(req);
    this.add(req, 'warning', `${kind}: ${observed}; draft §${r.section}: "${r.text}"`, ev, { kind, quote: r.text, section: r.section });
  }

  /** `info` as a note on a requirement without judging it (what the runtime chose where the spec lets it). */
  note(req: string, message: string, ...ev: EvidenceRef[]): void {
    this.info(req, message, ...ev);
  }
}

/** The worst outcome of a check's findings; only skips (or nothing) means the check was skipped. */
export function overall(findings: Finding[]): Outcome {
  let worst: Outcome = 'skipped';
  for (const f of findings) if (RANK[f.outcome] > RANK[worst]) worst = f.outcome;
  return worst;
}

export const worse = (a: Outcome, b: Outcome): Outcome => (RANK[a] >= RANK[b] ? a : b);
