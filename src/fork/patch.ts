import { z } from 'zod';
import { escapeToken, formatPointer, parsePointer } from '../json/pointer.js';

/** One RFC 6902 operation. */
export const PatchOp = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('add'), path: z.string(), value: z.unknown() }),
  z.strictObject({ op: z.literal('remove'), path: z.string() }),
  z.strictObject({ op: z.literal('replace'), path: z.string(), value: z.unknown() }),
  z.strictObject({ op: z.literal('move'), from: z.string(), path: z.string() }),
  z.strictObject({ op: z.literal('copy'), from: z.string(), path: z.string() }),
  z.strictObject({ op: z.literal('test'), path: z.string(), value: z.unknown() }),
]);
export type PatchOp = z.infer<typeof PatchOp>;
export const Patch = z.array(PatchOp);

/** Why an operation does not apply, and the pointers that do exist nearby. */
export class PatchError extends Error {
  constructor(
    message: string,
    readonly nearest: string[],
  ) {
    super(message);
  }
}

function tokensOf(pointer: string): string[] {
  if (!pointer.startsWith('/') && pointer !== '') throw new PatchError(`"${pointer}" is not a JSON pointer (it must start with /)`, []);
  return parsePointer(pointer);
}

const isContainer = (v: unknown): v is Record<string, unknown> | unknown[] => v !== null && typeof v === 'object';

/** The pointers one level under `at` in `doc` (what a user may have meant). */
function childrenOf(doc: unknown, tokens: string[]): string[] {
  const base = formatPointer(tokens);
  const v = tokens.reduce<unknown>((x, t) => (isContainer(x) ? (x as Record<string, unknown>)[t] : undefined), doc);
  if (Array.isArray(v)) return v.map((_, i) => `${base}/${i}`);
  if (isContainer(v)) return Object.keys(v).map((k) => `${base}/${escapeToken(k)}`);
  return [];
}

/** The container holding the pointer's last token, or a PatchError naming the deepest part that exists. */
function parentOf(doc: unknown, pointer: string): { container: Record<string, unknown> | unknown[]; key: string } {
  const tokens = tokensOf(pointer);
  if (!tokens.length) throw new PatchError('the root has no parent', []);
  let v: unknown = doc;
  for (let i = 0; i < tokens.length - 1; i++) {
    const t = tokens[i];
    const next = isContainer(v) ? (Array.isArray(v) ? v[Number(t)] : (v as Record<string, unknown>)[t]) : undefined;
    if (!isContainer(next) || (Array.isArray(v) && !/^\d+$/.test(t))) {
      throw new PatchError(`${formatPointer(tokens.slice(0, i + 1))} does not exist`, childrenOf(doc, tokens.slice(0, i)));
    }
    v = next;
  }
  if (!isContainer(v)) throw new PatchError(`${pointer} has no parent object or array`, []);
  return { container: v, key: tokens[tokens.length - 1] };
}

function get(doc: unknown, pointer: string): unknown {
  if (pointer === '') return doc;
  const { container, key } = parentOf(doc, pointer);
  const has = Array.isArray(container) ? /^\d+$/.test(key) && Number(key) < container.length : Object.hasOwn(container, key);
  if (!has) throw new PatchError(`${pointer} does not exist`, childrenOf(doc, tokensOf(pointer).slice(0, -1)));
  return Array.isArray(container) ? container[Number(key)] : container[key];
}

function arrayIndex(a: unknown[], key: string, pointer: string, adding: boolean, doc: unknown): number {
  if (adding && key === '-') return a.length;
  if (!/^(0|[1-9]\d*)$/.test(key) || Number(key) > a.length - (adding ? 0 : 1)) {
    throw new PatchError(`${pointer}: the array has ${a.length} item${a.length === 1 ? '' : 's'}`, childrenOf(doc, tokensOf(pointer).slice(0, -1)));
  }
  return Number(key);
}

/** Applies RFC 6902 operations to a copy of `doc`; a failing operation throws a PatchError. */
export function applyPatch(doc: unknown, ops: PatchOp[]): unknown {
  let root: unknown = structuredClone(doc);
  for (const op of ops) {
    const put = (pointer: string, value: unknown, replace: boolean) => {
      if (pointer === '') {
        root = value;
        return;
      }
      const { container, key } = parentOf(root, pointer);
      if (Array.isArray(container)) {
        const i = arrayIndex(container, key, pointer, !replace, root);
        if (replace) container[i] = value;
        else container.splice(i, 0, value);
      } else {
        if (replace && !Object.hasOwn(container, key)) throw new PatchError(`${pointer} does not exist (replace needs it; use add)`, childrenOf(root, tokensOf(pointer).slice(0, -1)));
        container[key] = value;
      }
    };
    const remove = (pointer: string): unknown => {
      const value = get(root, pointer);
      const { container, key } = parentOf(root, pointer);
      if (Array.isArray(container)) container.splice(arrayIndex(container, key, pointer, false, root), 1);
      else delete container[key];
      return value;
    };
    switch (op.op) {
      case 'add':
        put(op.path, structuredClone(op.value), false);
        break;
      case 'replace':
        get(root, op.path);
        put(op.path, structuredClone(op.value), true);
        break;
      case 'remove':
        if (op.path === '') throw new PatchError('the root cannot be removed', []);
        remove(op.path);
        break;
      case 'move':
        put(op.path, remove(op.from), false);
        break;
      case 'copy':
        put(op.path, structuredClone(get(root, op.from)), false);
        break;
      case 'test':
        if (JSON.stringify(get(root, op.path)) !== JSON.stringify(op.value)) throw new PatchError(`test ${op.path}: the value is ${JSON.stringify(get(root, op.path))?.slice(0, 60)}`, []);
        break;
    }
  }
  return root;
}

/** Whether `pointer` exists in `doc`. */
export function has(doc: unknown, pointer: string): boolean {
  try {
    get(doc, pointer);
    return true;
  } catch {
    return false;
  }
}
