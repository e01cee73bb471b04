import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * One meaning per short flag across the tool (docs/cli.md). A letter may stand for flags of
 * several names only when they mean the same thing (-o: the file a command writes, whatever
 * its long name; -u: the runtime to talk to).
 */
const MEANINGS: Record<string, { meaning: string; names: string[] }> = {
  a: { meaning: 'the agent to run', names: ['agent'] },
  c: { meaning: 'a tape channel', names: ['channel'] },
  h: { meaning: 'help', names: ['help'] },
  i: { meaning: 'a job input', names: ['input'] },
  j: { meaning: 'how many at once', names: ['jobs'] },
  k: { meaning: 'a private key file', names: ['key'] },
  l: { meaning: 'listen (serve the runtime side)', names: ['listen'] },
  n: { meaning: 'at most this many', names: ['limit'] },
  o: { meaning: 'the file the command writes', names: ['out', 'output', 'tape'] },
  p: { meaning: 'the port to listen on', names: ['port'] },
  q: { meaning: 'quiet', names: ['quiet'] },
  r: { meaning: 'a records file', names: ['records'] },
  s: { meaning: 'a script', names: ['script'] },
  t: { meaning: 'a bearer token', names: ['token'] },
  u: { meaning: 'the runtime to talk to (URL)', names: ['url', 'upstream', 'target'] },
  v: { meaning: 'verbose', names: ['verbose'] },
};

describe('short flags', () => {
  it('each letter means one thing in every command (the built manifest is what users get)', () => {
    const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '../../oclif.manifest.json'), 'utf8')) as { commands: Record<string, { flags: Record<string, { char?: string }> }> };
    const wrong: string[] = [];
    let seen = 0;
    for (const [id, c] of Object.entries(manifest.commands)) {
      for (const [name, f] of Object.entries(c.flags)) {
        if (!f.char) continue;
        seen++;
        const m = MEANINGS[f.char];
        if (!m || !m.names.includes(name)) wrong.push(`${id.replace(/:/g, ' ')} -${f.char} is --${name}${m ? `; -${f.char} means ${m.meaning}` : '; no meaning is listed for it'}`);
      }
    }
    expect(seen).toBeGreaterThan(10);
    expect(wrong).toEqual([]);
  });

  it('docs/cli.md lists every letter with its meaning', () => {
    const doc = readFileSync(join(import.meta.dirname, '../../docs/cli.md'), 'utf8');
    for (const [ch, m] of Object.entries(MEANINGS)) expect(doc, `-${ch}`).toContain(`| \`-${ch}\` | ${m.meaning} |`);
  });
});
