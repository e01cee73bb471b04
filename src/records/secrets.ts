import { sha256hex } from '../tape/fingerprint.js';
import { DEFAULT_HEADERS, PLACEHOLDER } from '../tape/redact.js';

/** Headers that carry credentials: the ones redaction covers by default. */
export const CREDENTIAL_HEADERS = new Set(DEFAULT_HEADERS);

/**
 * A credential as a record may show it: a redaction placeholder stays as it is (the same secret
 * has the same placeholder throughout a tape), anything else becomes a short digest. Records
 * never carry a credential in clear, even from a tape recorded with --no-redact.
 */
export function shownSecret(value: string): string {
  return PLACEHOLDER.test(value) ? value : `[withheld sha256:${sha256hex(value).slice(0, 16)}]`;
}
