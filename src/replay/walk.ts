/** Where a value sits in a parsed frame: a linked path, so walking deep frames costs no path copies. */
export interface PathNode {
  key: string;
  parent?: PathNode;
  depth: number;
}

export const child = (parent: PathNode | undefined, key: string): PathNode => ({ key, parent, depth: (parent?.depth ?? 0) + 1 });

export function pathOf(node: PathNode | undefined): string[] {
  const out: string[] = new Array(node?.depth ?? 0);
  for (let n = node; n; n = n.parent) out[n.depth - 1] = n.key;
  return out;
}

/**
 * Visits every leaf of a parsed JSON value with its path, depth first, without recursion: frames
 * from strangers can nest 100k deep. The path is built only for leaves whose key `wants` accepts.
 */
export function eachLeaf(v: unknown, wants: (key: string) => boolean, visit: (path: string[], value: unknown) => void): void {
  const stack: { x: unknown; at?: PathNode }[] = [{ x: v }];
  while (stack.length) {
    const { x, at } = stack.pop()!;
    if (Array.isArray(x)) {
      for (let i = x.length - 1; i >= 0; i--) {
        const key = String(i);
        if (isObject(x[i]) || wants(key)) stack.push({ x: x[i], at: child(at, key) });
      }
    } else if (isObject(x)) {
      // A leaf whose key is not wanted is never pushed: most leaves of a frame cost one call.
      const keys = Object.keys(x);
      for (let i = keys.length - 1; i >= 0; i--) {
        const v = (x as Record<string, unknown>)[keys[i]];
        if (isObject(v) || wants(keys[i])) stack.push({ x: v, at: child(at, keys[i]) });
      }
    } else if (at) visit(pathOf(at), x);
  }
}

const isObject = (v: unknown): v is object => v !== null && typeof v === 'object';

/**
 * JSON text with object keys sorted and the fields `skip` names left out: two bodies that differ
 * only in key order or skipped fields give the same text. Written without recursion.
 */
export function canonicalJson(v: unknown, skip: (at: PathNode, value: unknown) => boolean): string {
  let out = '';
  const stack: ({ x: unknown; at?: PathNode } | { raw: string })[] = [{ x: v }];
  while (stack.length) {
    const item = stack.pop()!;
    if ('raw' in item) {
      out += item.raw;
      continue;
    }
    const { x, at } = item;
    if (Array.isArray(x)) {
      out += '[';
      stack.push({ raw: ']' });
      for (let i = x.length - 1; i >= 0; i--) {
        stack.push({ x: x[i] === undefined ? null : x[i], at: child(at, String(i)) });
        if (i > 0) stack.push({ raw: ',' });
      }
    } else if (x !== null && typeof x === 'object') {
      const keys = Object.keys(x)
        .sort()
        .filter((k) => (x as Record<string, unknown>)[k] !== undefined && !skip(child(at, k), (x as Record<string, unknown>)[k]));
      out += '{';
      stack.push({ raw: '}' });
      for (let i = keys.length - 1; i >= 0; i--) {
        stack.push({ x: (x as Record<string, unknown>)[keys[i]], at: child(at, keys[i]) });
        stack.push({ raw: `${i > 0 ? ',' : ''}${JSON.stringify(keys[i])}:` });
      }
    } else out += JSON.stringify(x);
  }
  return out;
}
