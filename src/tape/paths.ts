import { readFileSync } from 'node:fs';

const here = import.meta.url;
/** Under vitest this module runs from its .ts source; the worker must still be compiled JS. */
const fromSource = here.endsWith('.ts');

export function workerUrl(name: 'write-worker' | 'read-worker' = 'write-worker'): URL {
  return fromSource ? new URL(`../../dist/src/tape/${name}.js`, here) : new URL(`./${name}.js`, here);
}

const pkgUrl = new URL(fromSource ? '../../package.json' : '../../../package.json', here);
export const TOOL_VERSION: string = (JSON.parse(readFileSync(pkgUrl, 'utf8')) as { version: string }).version;
