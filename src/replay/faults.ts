import { ToolError } from '../errors.js';

/** Faults a replay can inject at a recorded frame, so a client's resume and gap handling can be exercised. */
export type Fault = { kind: 'drop'; seq: number } | { kind: 'delay'; seq: number; ms: number } | { kind: 'duplicate'; seq: number };

/** `drop@SEQ` (close the transport after that frame), `delay@SEQ=MS`, `duplicate@SEQ`. */
export function parseFault(spec: string): Fault {
  const m = /^(drop|delay|duplicate)@(\d+)(?:=(\d+))?$/.exec(spec.trim());
  const usage = 'e.g. --fault drop@42, --fault delay@17=500, --fault duplicate@30 (seq from `arcp tape show`)';
  if (!m) throw new ToolError('E_USAGE', `--fault "${spec}" is not drop@SEQ, delay@SEQ=MS or duplicate@SEQ`, usage);
  const seq = Number(m[2]);
  if (m[1] === 'delay') {
    if (m[3] === undefined) throw new ToolError('E_USAGE', `--fault "${spec}": delay needs =MS`, usage);
    return { kind: 'delay', seq, ms: Number(m[3]) };
  }
  if (m[3] !== undefined) throw new ToolError('E_USAGE', `--fault "${spec}": only delay takes =MS`, usage);
  return { kind: m[1] as 'drop' | 'duplicate', seq };
}
