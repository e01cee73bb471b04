import { ToolError } from '../errors.js';
import { TapeReader } from '../tape/reader.js';

/** Faults a replay can inject at a recorded frame, so a client's resume and gap handling can be exercised. */
export type Fault = ({ kind: 'drop'; seq: number } | { kind: 'delay'; seq: number; ms: number } | { kind: 'duplicate'; seq: number }) & {
  spec: string;
  /** Set when the replay acted on it: a fault that never fires is a note in the report. */
  fired?: boolean;
};

/** The longest delay: a day. Node's timers wrap past 2^31 - 1 ms (a delay of 1 ms instead). */
export const MAX_DELAY_MS = 24 * 60 * 60 * 1000;

/** `drop@SEQ` (close the transport after that frame), `delay@SEQ=MS`, `duplicate@SEQ`. */
export function parseFault(spec: string): Fault {
  const m = /^(drop|delay|duplicate)@(\d+)(?:=(\d+))?$/.exec(spec.trim());
  const usage = 'e.g. --fault drop@42, --fault delay@17=500, --fault duplicate@30 (seq from `arcp tape show`)';
  if (!m) throw new ToolError('E_USAGE', `--fault "${spec}" is not drop@SEQ, delay@SEQ=MS or duplicate@SEQ`, usage);
  const seq = Number(m[2]);
  if (seq < 1 || !Number.isSafeInteger(seq)) throw new ToolError('E_USAGE', `--fault "${spec}": seq ${m[2]} is not a frame (a tape's seqs start at 1)`, usage);
  if (m[1] === 'delay') {
    if (m[3] === undefined) throw new ToolError('E_USAGE', `--fault "${spec}": delay needs =MS`, usage);
    const ms = Number(m[3]);
    if (ms > MAX_DELAY_MS) throw new ToolError('E_USAGE', `--fault "${spec}": a delay of ${m[3]} ms is more than a day (at most ${MAX_DELAY_MS})`, usage);
    return { kind: 'delay', seq, ms, spec };
  }
  if (m[3] !== undefined) throw new ToolError('E_USAGE', `--fault "${spec}": only delay takes =MS`, usage);
  return { kind: m[1] as 'drop' | 'duplicate', seq, spec };
}

/** The fault of this kind at this frame, if any, marked as fired. */
export function fire<K extends Fault['kind']>(faults: Fault[], kind: K, seq: number): Extract<Fault, { kind: K }> | undefined {
  const f = faults.find((x) => x.kind === kind && x.seq === seq) as Extract<Fault, { kind: K }> | undefined;
  if (f) f.fired = true;
  return f;
}

/** Why each fault that never fired did not: past the tape's end, a frame the runtime side does not send, or a frame the replay did not reach. */
export function unfiredNotes(faults: Fault[], tape: string): string[] {
  const unfired = faults.filter((f) => !f.fired);
  if (!unfired.length) return [];
  const t = TapeReader.open(tape);
  try {
    const total = t.frameCount();
    return unfired.map((f) => {
      const [row] = t.rows({ fromSeq: f.seq, toSeq: f.seq });
      const why =
        !row ? `the tape has ${total} frames`
        : f.kind !== 'drop' && row.dir !== 's2c' ? `frame ${f.seq} is not one the runtime side sends (${row.dir} ${row.kind}); delay and duplicate act on those`
        : `the replay did not reach frame ${f.seq}`;
      return `fault ${f.spec} never fired: ${why}`;
    });
  } finally {
    t.close();
  }
}
