import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

interface Import {
  /** The file, relative to the project root. */
  from: string;
  /** As written. */
  spec: string;
  /** A relative import resolved to the project-relative path of the source it names (`src/tape/reader.ts`); a package name as written. */
  to: string;
}

const importsOf = (file: string): Import[] =>
  [...readFileSync(file, 'utf8').matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(['"]([^'"]+)['"]\)/g)].map((m) => {
    const spec = m[1] ?? m[2];
    const to = spec.startsWith('.') ? relative(ROOT, resolve(dirname(file), spec)).replace(/\.js$/, '.ts') : spec;
    return { from: relative(ROOT, file), spec, to };
  });

const all = (...dirs: string[]) => dirs.flatMap((d) => files(join(ROOT, d))).flatMap(importsOf);
/** Every import in `dirs` that `bad` accepts, as "file imports target": the test lists them all at once. */
const offenders = (dirs: string[], bad: (i: Import) => boolean) => all(...dirs).filter(bad).map((i) => `${i.from} imports ${i.spec}`);

const under = (i: Import, ...dirs: string[]) => dirs.some((d) => i.to.startsWith(`${d}/`) || i.to === d);

/** Layering (design.md): engine ← runtime/client ← tape ← record/replay/… ← render ← commands. */
describe('import boundaries', () => {
  it('the walk finds the sources and their imports (a broken walk must not pass the rest)', () => {
    expect(files(join(ROOT, 'src')).length).toBeGreaterThan(50);
    expect(all('src/engine').length).toBeGreaterThan(20);
    expect(all('commands').some((i) => i.to === 'src/replay/replay.ts')).toBe(true);
    expect(all('src/tape').some((i) => i.to === 'src/errors.ts')).toBe(true);
  });

  it('the engine imports neither the CLI, oclif, chalk, nor any layer above it (not even the tool\'s errors)', () => {
    const above = ['commands', 'src/render', 'src/report', 'src/runtime', 'src/client', 'src/tape', 'src/record', 'src/replay', 'src/conform', 'src/fork', 'src/records', 'src/llm', 'src/runner', 'src/errors.ts'];
    expect(offenders(['src/engine'], (i) => /^(@oclif|chalk)/.test(i.to) || under(i, ...above))).toEqual([]);
  });

  it('the shared helpers under every layer (JSON pointers, listening sockets and header lists) import nothing of the project', () => {
    expect(all('src/json', 'src/net').length).toBeGreaterThan(0);
    expect(offenders(['src/json', 'src/net'], (i) => i.spec.startsWith('.') && !under(i, 'src/json', 'src/net'))).toEqual([]);
  });

  it('nothing in src/ imports oclif or the commands', () => {
    expect(offenders(['src'], (i) => /^@oclif/.test(i.to) || under(i, 'commands'))).toEqual([]);
  });

  it('only the renderers use chalk', () => {
    expect(offenders(['src'], (i) => i.to === 'chalk' && !i.from.startsWith('src/render/'))).toEqual([]);
  });

  it('the tape store speaks SQL for everyone and knows nothing of recording, replay, the runtime, the client or the CLI', () => {
    expect(offenders(['src/tape'], (i) => under(i, 'src/record', 'src/replay', 'src/runtime', 'src/client', 'src/render', 'src/conform', 'src/fork', 'commands'))).toEqual([]);
    const sql = [...files(join(ROOT, 'src')).filter((f) => !f.includes('/src/tape/')), ...files(join(ROOT, 'commands'))].filter((f) => /better-sqlite3|\b(SELECT|INSERT)\s/.test(readFileSync(f, 'utf8')));
    expect(sql.map((f) => relative(ROOT, f))).toEqual([]);
  });

  it('records read tapes and know nothing of recording, replay, runtimes or the renderers', () => {
    expect(offenders(['src/records'], (i) => under(i, 'src/record', 'src/replay', 'src/runtime', 'src/client', 'src/render', 'src/conform', 'src/fork', 'commands') || i.to === 'better-sqlite3')).toEqual([]);
  });

  it('reports build pages from what the library derives: no sockets, no recording, no runtime, no renderers, no SQL', () => {
    expect(offenders(['src/report'], (i) => under(i, 'src/record', 'src/runtime', 'src/client', 'src/render', 'commands') || /^(ws|undici|better-sqlite3|chalk|node:net|node:http|@oclif)/.test(i.to))).toEqual([]);
    expect(all('src/report').some((i) => i.to === 'src/tape/reader.ts')).toBe(true);
  });

  it('record and replay stay apart (replay reuses only the recorder\'s exchange code and shared helpers)', () => {
    expect(offenders(['src/record'], (i) => under(i, 'src/replay'))).toEqual([]);
    expect(offenders(['src/replay'], (i) => under(i, 'src/record/recorder.ts', 'src/record/ws-proxy.ts', 'src/record/stdio-wrap.ts', 'src/record/http-proxy.ts'))).toEqual([]);
  });

  it('commands hold no sockets, SQL or protocol logic', () => {
    expect(offenders(['commands'], (i) => /^(ws|undici|better-sqlite3|node:net|node:http)$/.test(i.to) || under(i, 'src/engine/codec.ts', 'src/engine/transport', 'src/engine/session'))).toEqual([]);
  });

  it('relative imports are resolved before they are judged: a deeper file\'s `../errors.js` is src/…, not src/errors.ts', () => {
    const fake = join(ROOT, 'src/tape/interchange/x.ts');
    const [i] = [{ from: 'src/tape/interchange/x.ts', spec: '../../errors.js', to: relative(ROOT, resolve(dirname(fake), '../../errors.js')).replace(/\.js$/, '.ts') }];
    expect(i.to).toBe('src/errors.ts');
    const deeper = relative(ROOT, resolve(dirname(join(ROOT, 'src/replay/x.ts')), '../errors.js')).replace(/\.js$/, '.ts');
    expect(deeper).toBe('src/errors.ts');
    expect(relative(ROOT, resolve(dirname(join(ROOT, 'src/engine/transport/x.ts')), '../errors.js')).replace(/\.js$/, '.ts')).toBe('src/engine/errors.ts');
  });
});
