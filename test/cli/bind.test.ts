import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAPTURES_DIR } from '../helpers/captures.js';
import { arcp } from '../helpers/cli.js';
import { tapeDir } from '../helpers/tape.js';

const tape = tapeDir();
let busy: Server;
let port = 0;
let ws = '';
beforeAll(async () => {
  busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  port = (busy.address() as AddressInfo).port;
  ws = tape('cancel.tape');
  expect((await arcp(['tape', 'import', join(CAPTURES_DIR, 'cancel.jsonl'), '--tape', ws])).exitCode).toBe(0);
});
afterAll(() => busy.close());

/** Every command that listens, at an address given by `where`. */
const listeners = (where: string[]): [string, string[]][] => [
  ['serve', ['serve', ...where]],
  ['replay --listen', ['replay', ws, '--listen', ...where]],
  ['record', ['record', '--upstream', 'ws://127.0.0.1:9', '--tape', tape(`bind-${where.join('')}.tape`), ...where]],
  ['llm serve', ['llm', 'serve', ...where]],
];

describe('a listen that fails is one line, exit 2, for every command that listens', () => {
  it.each([
    ['a port in use', () => ['--port', String(port)], /cannot listen on 127\.0\.0\.1:\d+: the port is already in use \(pick another --port, or 0 for any free port\)/],
    ['a host that is not this machine', () => ['--host', '203.0.113.7'], /cannot listen on 203\.0\.113\.7:0: 203\.0\.113\.7 is not an address of this machine/],
    ['a host name that does not resolve', () => ['--host', 'no-such-host.invalid'], /cannot listen on no-such-host\.invalid:0: the host name no-such-host\.invalid does not resolve/],
  ])('%s', async (_name, where, re) => {
    const runs = await Promise.all(listeners(where()).map(async ([name, args]) => ({ name, args, r: await arcp(args) })));
    for (const { name, args, r } of runs) {
      expect(r.exitCode, name).toBe(2);
      expect(r.stderr, name).toMatch(re);
      expect(r.stderr.trim().split('\n'), name).toHaveLength(1);
      expect(r.stderr, name).not.toMatch(/\n\s+at |Unhandled/);
      if (name === 'record') expect(existsSync(args[4]), 'record leaves no tape when it cannot listen').toBe(false);
    }
  });
});
