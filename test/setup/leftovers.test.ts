import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

const run = (leak: string) => execa('npx', ['vitest', 'run', '--config', 'test/setup/leak.config.ts'], { reject: false, env: { LEAK: leak, NO_COLOR: '1' }, cwd: `${import.meta.dirname}/../..` });

describe('the leftovers check every test file runs under', () => {
  it('fails a file that leaves a listening socket or a child process, naming it; passes one that leaves nothing', async () => {
    const [listener, child, none] = await Promise.all([run('listener'), run('child'), run('none')]);
    expect(listener.exitCode).toBe(1);
    expect(listener.stdout + listener.stderr).toMatch(/left 1 thing\(s\) running: listener \{"address":"127\.0\.0\.1"/);
    expect(child.exitCode).toBe(1);
    expect(child.stdout + child.stderr).toMatch(/left 1 thing\(s\) running: child \d+ .*setTimeout/);
    expect(none.exitCode, none.stdout + none.stderr).toBe(0);
  }, 60_000);
});
