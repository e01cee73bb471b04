import { spawn } from 'node:child_process';
import type { Transport } from '../../engine/transport/transport.js';
import { StdioTransport } from '../../engine/transport/stdio.js';
import { connectWebSocket } from '../../engine/transport/websocket.js';
import { ToolError } from '../../errors.js';

/** Where the runtime under test is, and how the suite opens a connection to it. */
export interface ServerTarget {
  /** For reports: the URL or the command. */
  readonly describe: string;
  readonly kind: 'ws' | 'stdio';
  /** stdio: one process is one connection, so a session cannot be resumed on a second one. */
  readonly reconnectable: boolean;
  /** ws:// to a loopback address or stdio: no network path for credentials to cross. */
  readonly local: boolean;
  readonly encrypted: boolean;
  connect(): Promise<Transport>;
  /** What the tape's channel info records. */
  info(): { url?: string; command?: string[] };
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\]|::1)$/;

export function wsTarget(url: string): ServerTarget {
  const u = URL.canParse(url) ? new URL(url) : undefined;
  if (!u || !/^wss?:$/.test(u.protocol)) throw new ToolError('E_USAGE', `"${url}" is not a ws:// or wss:// URL`, 'e.g. arcp conform server ws://127.0.0.1:7777, or -- <runtime command> for stdio');
  return {
    describe: url,
    kind: 'ws',
    reconnectable: true,
    local: LOOPBACK.test(u.hostname),
    encrypted: u.protocol === 'wss:',
    connect: () => connectWebSocket(url, { timeoutMs: 5000 }),
    info: () => ({ url }),
  };
}

/** Spawns `command` per connection and speaks NDJSON on its stdio; its stderr tail explains an early exit. */
export function stdioTarget(command: string[]): ServerTarget {
  if (!command.length) throw new ToolError('E_USAGE', 'no runtime command after --', 'e.g. arcp conform server -- arcp serve --stdio --token tok=alice');
  return {
    describe: command.join(' '),
    kind: 'stdio',
    reconnectable: false,
    local: true,
    encrypted: false,
    info: () => ({ command }),
    connect: () =>
      new Promise<Transport>((resolve, reject) => {
        const child = spawn(command[0], command.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
        let tail = '';
        child.stderr!.on('data', (d: Buffer) => (tail = (tail + d.toString('utf8')).slice(-2000)));
        child.once('error', (e) => reject(new Error(`cannot start ${command[0]}: ${e.message}`)));
        child.once('spawn', () => {
          const t = new StdioTransport(child.stdout!, child.stdin!, child);
          (t as StdioTransport & { stderrTail: () => string }).stderrTail = () => tail.trim().split('\n').slice(-3).join(' | ');
          resolve(t);
        });
      }),
  };
}

export const stderrTail = (t: Transport): string => (t as Transport & { stderrTail?: () => string }).stderrTail?.() ?? '';
