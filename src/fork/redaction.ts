import { redactionRules } from '../record/recorder.js';
import type { RedactionRules, TapeMeta } from '../tape/format.js';
import { defaultRules, Redactor, scrubCommandLine } from '../tape/redact.js';

/** Redaction rules beyond the defaults, as `--redact-*` flags give them. */
export interface ExtraRules {
  pointers?: string[];
  headers?: string[];
  regexes?: string[];
  query?: string[];
}

const given = (x?: ExtraRules) => Boolean(x && (x.pointers?.length || x.headers?.length || x.regexes?.length || x.query?.length));

/**
 * The rules a child is written with: the parent's when its tape kept them (older tapes), else
 * the defaults (on or off as the parent's were) and any given again. A tape keeps only a digest
 * of rules beyond the defaults, so those must be given again for what a continuation records.
 */
export function childRules(stored: TapeMeta['redaction'], extra?: ExtraRules): { rules: RedactionRules; note?: string } {
  if ('pointers' in stored) {
    const x = extra ?? {};
    return { rules: { enabled: stored.enabled, pointers: [...stored.pointers, ...(x.pointers ?? [])], headers: [...stored.headers, ...(x.headers ?? [])], regexes: [...stored.regexes, ...(x.regexes ?? [])], query: [...(stored.query ?? []), ...(x.query ?? [])] } };
  }
  const rules = redactionRules({ redact: stored.enabled, ...extra });
  const d = defaultRules({}, stored.enabled);
  const c = stored.counts;
  const beyond = c.pointers > d.pointers.length || c.headers > d.headers.length || c.regexes > 0 || c.query > (d.query?.length ?? 0);
  return { rules, note: beyond && !given(extra) ? 'the parent was recorded with redaction rules beyond the defaults, which a tape keeps only as a digest: pass them again (--redact-pointer, --redact-header, --redact-regex) for what the fork records' : undefined };
}

/** A command line as a tape may keep it (token and rule flags, credentials in URLs scrubbed). */
export const scrubbed = (argv: string[], rules: RedactionRules): string[] => scrubCommandLine(argv, new Redactor(rules));
