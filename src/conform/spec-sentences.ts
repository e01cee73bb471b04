/** RFC 2119 keywords the requirements file tracks, strongest first. */
export const KEYWORDS = ['MUST NOT', 'MUST', 'SHOULD NOT', 'SHOULD', 'MAY'] as const;
export type Keyword = (typeof KEYWORDS)[number];

const KEYWORD = /\b(MUST NOT|MUST|SHOULD NOT|SHOULD|MAY)\b/g;

export interface SpecSentence {
  /** The numbered section it sits in (`6.4`, `9.8.2`). */
  section: string;
  /** The sentence with line breaks joined by one space; markdown kept. */
  text: string;
  /** Every keyword it contains, in order of appearance. */
  keywords: Keyword[];
}

/** Whitespace-normalised text: how sentences are compared with the spec. */
export const normalise = (s: string): string => s.replace(/\s+/g, ' ').trim();

/**
 * Splits a markdown spec into its sentences per numbered section, outside code blocks, tables
 * and HTML. List items and numbered steps start a new paragraph; a sentence ends at `.`, `!`
 * or `?` followed by a capital, backtick, `*` or `(`.
 */
export function specSentences(markdown: string): { section: string; text: string }[] {
  const out: { section: string; text: string }[] = [];
  let section: string | undefined;
  let fenced = false;
  let para: string[] = [];
  const flush = () => {
    if (para.length && section) {
      const text = normalise(para.join(' ')).replace(/^(?:[-*]|\d+\.)\s+/, '');
      for (const s of text.split(/(?<=[.!?])\s+(?=[A-Z`*(])|\s+(?=\d+\.\s+[A-Z`])/)) if (s.trim()) out.push({ section, text: s.trim() });
    }
    para = [];
  };
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) {
      flush();
      fenced = !fenced;
      continue;
    }
    if (fenced) continue;
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (heading) {
      flush();
      section = /^(\d+(?:\.\d+)*)\.?\s/.exec(heading[1])?.[1];
      continue;
    }
    const t = line.trim();
    if (!t || t.startsWith('|') || t.startsWith('<') || t === '---') {
      flush();
      continue;
    }
    if (/^(?:[-*]|\d+\.)\s/.test(t)) flush();
    para.push(t);
  }
  flush();
  return out;
}

/** The sentences that carry at least one tracked keyword. */
export function keywordSentences(markdown: string): SpecSentence[] {
  return specSentences(markdown).flatMap((s) => {
    const keywords = [...s.text.matchAll(KEYWORD)].map((m) => m[1] as Keyword);
    return keywords.length ? [{ ...s, keywords }] : [];
  });
}

/** A table row's cells, for statements the spec makes in tables (§8.2 bodies, §12 codes). */
export function tableCells(markdown: string): string[] {
  return markdown
    .split('\n')
    .filter((l) => l.trim().startsWith('|'))
    .flatMap((l) => l.split('|').map((c) => normalise(c)).filter(Boolean));
}

/** The strongest keyword of a sentence decides its level. */
export function strongest(keywords: readonly Keyword[]): Keyword {
  return KEYWORDS.find((k) => keywords.includes(k))!;
}
