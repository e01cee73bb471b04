import { z } from 'zod';
import data from './requirements.json' with { type: 'json' };

export const Level = z.enum(['MUST', 'MUST NOT', 'SHOULD', 'SHOULD NOT', 'MAY']);
export type Level = z.infer<typeof Level>;

/** Which side a requirement binds. */
export const Subject = z.enum(['runtime', 'client', 'both', 'agent']);
export type Subject = z.infer<typeof Subject>;

export const Requirement = z.object({
  /** Stable: `<section>/<slug>`. */
  id: z.string().regex(/^\d+(\.\d+)*\/[a-z0-9.-]+$/),
  section: z.string(),
  level: Level,
  /** `keyword`: an RFC 2119 sentence; `statement`: a declarative sentence; `table`: a row of a table. */
  kind: z.enum(['keyword', 'statement', 'table']),
  subject: Subject,
  /** The exact text (line breaks joined by one space). For `table`, the row's second cell. */
  text: z.string().min(1),
  /** `table`: the row's first cell. */
  row: z.string().optional(),
  /** Why no check can judge it on the wire. */
  not_observable: z.string().optional(),
});
export type Requirement = z.infer<typeof Requirement>;

export const RequirementsFile = z.object({
  format: z.literal('arcp-conform-requirements/1'),
  spec: z.object({ file: z.string(), version: z.string(), sha256: z.string().length(64) }),
  notes: z.string(),
  /** Section number → heading, for grouping reports. */
  sections: z.record(z.string(), z.string()),
  requirements: z.array(Requirement),
});
export type RequirementsFile = z.infer<typeof RequirementsFile>;

export const REQUIREMENTS: RequirementsFile = RequirementsFile.parse(data);
const BY_ID = new Map(REQUIREMENTS.requirements.map((r) => [r.id, r]));

export function requirement(id: string): Requirement {
  const r = BY_ID.get(id);
  if (!r) throw new Error(`unknown requirement id "${id}"`);
  return r;
}

export const sectionTitle = (section: string): string => REQUIREMENTS.sections[section] ?? '';

export const hasRequirement = (id: string): boolean => BY_ID.has(id);

/** MUST-family → fail, SHOULD-family → warning, MAY → info: what a violation of this level yields. */
export type Severity = 'fail' | 'warning' | 'info';
export function severityOf(level: Level): Severity {
  if (level === 'MUST' || level === 'MUST NOT') return 'fail';
  if (level === 'SHOULD' || level === 'SHOULD NOT') return 'warning';
  return 'info';
}

/** Numeric section order for sorting (`9.8.2` after `9.8`, `10` after `9`). */
export function sectionKey(section: string): number[] {
  return section.split('.').map(Number);
}

export function compareSections(a: string, b: string): number {
  const x = sectionKey(a);
  const y = sectionKey(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? -1) - (y[i] ?? -1);
    if (d) return d;
  }
  return 0;
}
