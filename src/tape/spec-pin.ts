import { SPEC_SHA256 } from './format.js';

/** A tape pinned to another spec text than this arcp's: the note every reader of it shows. */
export function specMismatch(tape: string, sha256: string): string | undefined {
  return sha256 === SPEC_SHA256 ? undefined : `${tape} was recorded against spec text sha256 ${sha256}; this arcp implements sha256 ${SPEC_SHA256}`;
}
