/** Longest JSON text a report keeps of one compared value. */
const MAX_CHARS = 2000;

/**
 * A value as a report can hold it: itself when its JSON is short, else the start of its JSON
 * text, marked as clipped. Serialised iteratively and stopped at the limit, so a value nested
 * 100k deep or 10 MB long never reaches JSON.stringify (which recurses and copies it whole).
 */
export function jsonPreview(v: unknown, max = MAX_CHARS): unknown {
  if (v === null || typeof v !== 'object') {
    if (typeof v === 'string' && v.length > max) return `${v.slice(0, max)}… (${v.length} chars, clipped)`;
    return v;
  }
  const { text, complete } = boundedJson(v, max);
  return complete ? v : `${text}… (clipped)`;
}

/** JSON text of `v`, at most about `max` characters; `complete` when nothing was cut. */
export function boundedJson(v: unknown, max: number): { text: string; complete: boolean } {
  let text = '';
  // Work items: a value to write, or a literal piece of punctuation.
  const stack: ({ v: unknown } | { raw: string })[] = [{ v }];
  while (stack.length) {
    if (text.length > max) return { text: text.slice(0, max), complete: false };
    const item = stack.pop()!;
    if ('raw' in item) {
      text += item.raw;
      continue;
    }
    const x = item.v;
    if (Array.isArray(x)) {
      stack.push({ raw: ']' });
      for (let i = x.length - 1; i >= 0; i--) {
        stack.push({ v: x[i] === undefined ? null : x[i] });
        if (i > 0) stack.push({ raw: ',' });
      }
      text += '[';
    } else if (x !== null && typeof x === 'object') {
      const entries = Object.entries(x).filter(([, y]) => y !== undefined);
      stack.push({ raw: '}' });
      for (let i = entries.length - 1; i >= 0; i--) {
        stack.push({ v: entries[i][1] });
        stack.push({ raw: `${i > 0 ? ',' : ''}${JSON.stringify(entries[i][0])}:` });
      }
      text += '{';
    } else if (typeof x === 'string' && x.length > max) {
      text += JSON.stringify(x.slice(0, max));
    } else text += JSON.stringify(x) ?? 'null';
  }
  return text.length > max ? { text: text.slice(0, max), complete: false } : { text, complete: true };
}
