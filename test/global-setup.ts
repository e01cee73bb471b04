import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');

function newest(dir: string): number {
  let t = 0;
  for (const f of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, f.name);
    if (f.isDirectory()) t = Math.max(t, newest(p));
    else if (f.name.endsWith('.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/**
 * The CLI tests run the built `dist/` while the library tests run the sources: a bare
 * `npx vitest` after an edit would test a stale build. Build first when any source is newer
 * than the last build (its oclif manifest is written last).
 */
export default function setup(): void {
  const manifest = join(ROOT, 'oclif.manifest.json');
  const built = existsSync(manifest) ? statSync(manifest).mtimeMs : 0;
  if (Math.max(newest(join(ROOT, 'src')), newest(join(ROOT, 'commands'))) <= built) return;
  process.stderr.write('dist/ is older than the sources: building first (npm run build)\n');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
}
