import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}
const importsOf = (file: string): string[] =>
  [...readFileSync(file, 'utf8').matchAll(/(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]|import\(['"]([^'"]+)['"]\)/g)].map((m) => m[1] ?? m[2]);

/** Layering (design.md): engine ← runtime/client ← render ← commands. */
describe('import boundaries', () => {
  it('the engine imports neither the CLI, oclif, chalk, nor the layers above it', () => {
    for (const f of files(join(ROOT, 'src/engine'))) {
      for (const imp of importsOf(f)) {
        expect(imp, `${relative(ROOT, f)} imports ${imp}`).not.toMatch(/@oclif|chalk|\/commands\/|\/render\/|\/runtime\/|\/client\/|\/tape\/|\/record\/|\/replay\/|\.\.\/errors\.js$/);
      }
    }
  });
  it('nothing in src/ imports oclif or the commands', () => {
    for (const f of files(join(ROOT, 'src'))) {
      for (const imp of importsOf(f)) expect(imp, `${relative(ROOT, f)} imports ${imp}`).not.toMatch(/@oclif|\/commands\//);
    }
  });
  it('only the renderers use chalk', () => {
    for (const f of files(join(ROOT, 'src')).filter((f) => !f.includes('/src/render/'))) {
      for (const imp of importsOf(f)) expect(imp, `${relative(ROOT, f)} imports ${imp}`).not.toBe('chalk');
    }
  });
  it('the tape store speaks SQL for everyone and knows nothing of recording, replay or the CLI', () => {
    for (const f of files(join(ROOT, 'src/tape'))) {
      for (const imp of importsOf(f)) expect(imp, `${relative(ROOT, f)} imports ${imp}`).not.toMatch(/\/(record|replay|runtime|client|render)\//);
    }
    for (const f of [...files(join(ROOT, 'src/record')), ...files(join(ROOT, 'src/replay'))]) {
      expect(readFileSync(f, 'utf8'), relative(ROOT, f)).not.toMatch(/better-sqlite3|\b(SELECT|INSERT)\b/);
    }
  });
  it('records read tapes and know nothing of recording, replay, runtimes or the renderers; they speak no SQL', () => {
    for (const f of files(join(ROOT, 'src/records'))) {
      for (const imp of importsOf(f)) expect(imp, `${relative(ROOT, f)} imports ${imp}`).not.toMatch(/\/(record|replay|runtime|client|render|conform|fork)\/|better-sqlite3/);
      expect(readFileSync(f, 'utf8'), relative(ROOT, f)).not.toMatch(/\b(SELECT|INSERT|UPDATE)\b/);
    }
  });
  it('record and replay stay apart', () => {
    for (const f of files(join(ROOT, 'src/record'))) for (const imp of importsOf(f)) expect(imp, `${relative(ROOT, f)} imports ${imp}`).not.toMatch(/\/replay\//);
    for (const f of files(join(ROOT, 'src/replay'))) for (const imp of importsOf(f)) expect(imp, `${relative(ROOT, f)} imports ${imp}`).not.toMatch(/\/record\/(recorder|ws-proxy|stdio-wrap|http-proxy)/);
  });
  it('commands hold no sockets, SQL or protocol logic', () => {
    for (const f of files(join(ROOT, 'commands'))) {
      const text = readFileSync(f, 'utf8');
      for (const imp of importsOf(f)) expect(imp, `${relative(ROOT, f)} imports ${imp}`).not.toMatch(/^(ws|undici|better-sqlite3|node:net|node:http)$|\/engine\/(codec|transport|session)/);
      expect(text, relative(ROOT, f)).not.toMatch(/\b(SELECT|INSERT)\b/);
    }
  });
});
