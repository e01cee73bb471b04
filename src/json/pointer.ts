/** JSON pointers (RFC 6901), for every layer that names a place in a document. */

export class PointerError extends Error {}

/** `/a~1b/0` → `['a/b', '0']`; the empty pointer names the whole document. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PointerError(`JSON pointer "${pointer}" must start with "/"`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => (t.includes('~') ? t.replace(/~1/g, '/').replace(/~0/g, '~') : t));
}

export const escapeToken = (t: string): string => t.replace(/~/g, '~0').replace(/\//g, '~1');

export const formatPointer = (tokens: readonly string[]): string => (tokens.length ? '/' + tokens.map(escapeToken).join('/') : '');

const isContainer = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object';

/** The value a pointer names, if the document has one there. */
export function valueAt(doc: unknown, pointer: string): { found: boolean; value?: unknown } {
  let v: unknown = doc;
  for (const k of parsePointer(pointer)) {
    if (Array.isArray(v) && /^\d+$/.test(k) && Number(k) < v.length) v = v[Number(k)];
    else if (!Array.isArray(v) && isContainer(v) && Object.hasOwn(v, k)) v = v[k];
    else return { found: false };
  }
  return { found: true, value: v };
}

/** Every string reached by `tokens` in a parsed document, where `*` stands for every key or element. */
export function stringsAt(doc: unknown, tokens: readonly string[], from = 0, out: string[] = []): string[] {
  if (from === tokens.length) {
    if (typeof doc === 'string') out.push(doc);
    return out;
  }
  if (!isContainer(doc)) return out;
  const head = tokens[from];
  if (head === '*') for (const k of Object.keys(doc)) stringsAt(doc[k], tokens, from + 1, out);
  else if (Object.hasOwn(doc, head)) stringsAt(doc[head], tokens, from + 1, out);
  return out;
}
