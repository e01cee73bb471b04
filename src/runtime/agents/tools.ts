import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ToolSpec } from '../../llm/dialect.js';

/** A tool the assistant runs itself; every call is authorized against the job's lease first. */
export interface AgentTool {
  spec: ToolSpec;
  /** The lease capability a call needs, and on what target. */
  capability: string;
  target(args: Record<string, unknown>): string;
  /** The result, or `{error}` when the tool cannot do it (told to the model, not a job failure). */
  run(args: Record<string, unknown>): unknown;
}

const READ_LIMIT = 4096;

/** `+ - * / % ^`, parentheses and unary minus over decimal numbers; nothing else is evaluated. */
export function calculate(expression: string): number {
  const s = expression.replace(/\s+/g, '');
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`${what} at position ${i + 1} of "${expression}"`);
  };
  const number = (): number => {
    const m = /^\d+(\.\d+)?([eE][-+]?\d+)?|^\.\d+/.exec(s.slice(i));
    if (!m) return fail(i < s.length ? `unexpected "${s[i]}"` : 'expression ends early');
    i += m[0].length;
    return Number(m[0]);
  };
  const atom = (): number => {
    if (s[i] === '-') return i++, -atom();
    if (s[i] === '+') return i++, atom();
    if (s[i] === '(') {
      i++;
      const v = sum();
      if (s[i++] !== ')') fail('missing ")"');
      return v;
    }
    return number();
  };
  const power = (): number => {
    const base = atom();
    if (s[i] !== '^') return base;
    i++;
    return base ** power();
  };
  const product = (): number => {
    let v = power();
    while (s[i] === '*' || s[i] === '/' || s[i] === '%') {
      const op = s[i++];
      const r = power();
      v = op === '*' ? v * r : op === '/' ? v / r : v % r;
    }
    return v;
  };
  const sum = (): number => {
    let v = product();
    while (s[i] === '+' || s[i] === '-') v = s[i++] === '+' ? v + product() : v - product();
    return v;
  };
  const v = sum();
  if (i < s.length) fail(`unexpected "${s[i]}"`);
  if (!Number.isFinite(v)) throw new Error(`"${expression}" has no finite value`);
  // Twelve significant digits: 52.5 * 0.08 is 4.2, not 4.200000000000001.
  return Number(v.toPrecision(12));
}

export const calculator: AgentTool = {
  spec: {
    name: 'calculator',
    description: 'Evaluates an arithmetic expression (+ - * / % ^ and parentheses) and returns its value.',
    parameters: { type: 'object', properties: { expression: { type: 'string', description: 'e.g. "3 * 17.50"' } }, required: ['expression'] },
  },
  capability: 'tool.call',
  target: () => 'calculator',
  run(args) {
    if (typeof args.expression !== 'string') return { error: 'calculator needs {"expression": "…"}' };
    try {
      return { value: calculate(args.expression) };
    } catch (e) {
      return { error: (e as Error).message };
    }
  },
};

export const readFile: AgentTool = {
  spec: {
    name: 'read_file',
    description: `Reads a text file (its first ${READ_LIMIT} bytes).`,
    parameters: { type: 'object', properties: { path: { type: 'string', description: 'file path, absolute or relative to the runtime' } }, required: ['path'] },
  },
  capability: 'fs.read',
  target: (args) => resolve(String(args.path ?? '')),
  run(args) {
    if (typeof args.path !== 'string' || !args.path) return { error: 'read_file needs {"path": "…"}' };
    const path = resolve(args.path);
    try {
      const bytes = statSync(path).size;
      const buf = Buffer.alloc(Math.min(bytes, READ_LIMIT));
      const fd = openSync(path, 'r');
      try {
        readSync(fd, buf, 0, buf.length, 0);
      } finally {
        closeSync(fd);
      }
      return { path: args.path, bytes, content: buf.toString('utf8') };
    } catch (e) {
      return { error: `cannot read ${args.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
    }
  },
};

export const ASSISTANT_TOOLS: ReadonlyMap<string, AgentTool> = new Map([calculator, readFile].map((t) => [t.spec.name, t]));
