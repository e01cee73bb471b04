// A test file that breaks the rule on purpose: run only by leftovers.test.ts, through leak.config.ts.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { it } from 'vitest';

it(process.env.LEAK ?? 'leaks', async () => {
  if (process.env.LEAK === 'listener') await new Promise<void>((r) => createServer().listen(0, '127.0.0.1', () => r()));
  if (process.env.LEAK === 'child') spawn(process.execPath, ['-e', 'setTimeout(() => {}, 8_000)'], { stdio: 'ignore' });
});
