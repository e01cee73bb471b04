import { createServer } from 'node:net';
import { execa, type ResultPromise } from 'execa';
import { BIN } from '../helpers/cli.js';

type Proc = ResultPromise<{ reject: false; env: Record<string, string> }>;

/** The first line a process prints on stdout, parsed as JSON; fails after `ms`. */
function firstJsonLine(p: Proc, what: string, ms = 15_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${what} printed nothing within ${ms} ms`)), ms);
    p.stdout!.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      resolve(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
    });
    void p.then((r) => reject(new Error(`${what} exited (${r.exitCode}) before it was ready: ${r.stderr}`)));
  });
}

const run = (args: string[]): Proc => execa(process.execPath, [BIN, ...args], { reject: false, env: { NO_COLOR: '1' } });

/** A long-running command (`serve`, `llm serve`) as a child process; the URL it prints when ready. */
export async function startCli(args: string[]): Promise<{ url: string; stop: () => Promise<void> }> {
  const p = run([...args, '--json']);
  const ready = await firstJsonLine(p, `arcp ${args.slice(0, 2).join(' ')}`);
  return { url: String(ready.url), stop: async () => void (p.kill('SIGINT'), await p) };
}

/** `arcp serve` as a child process; its WebSocket URL. */
export const serveCli = (args: string[]) => startCli(['serve', '--port', '0', ...args]);

/** `arcp record` as a child process in front of a runtime (and LLM routes); stop() seals the tape. */
export async function recordCli(args: string[]): Promise<{ ws?: string; http?: string; stop: () => Promise<{ exitCode?: number; stderr: string }> }> {
  const p = run(['record', '--quiet', '--json', ...args]);
  const ready = await firstJsonLine(p, 'arcp record');
  return {
    ws: ready.ws as string | undefined,
    http: ready.http as string | undefined,
    stop: async () => {
      p.kill('SIGINT');
      const r = await p;
      return { exitCode: r.exitCode, stderr: String(r.stderr) };
    },
  };
}

/** A port free on loopback now, for a process that must be told its port before it starts. */
export const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
