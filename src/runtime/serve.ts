import { bindError, ToolError } from '../errors.js';
import { CONFORMANCE_AGENTS } from './agents/index.js';
import { LocalProvisioner } from './provisioner.js';
import { Runtime } from './runtime.js';
import type { RuntimeOptions } from './options.js';

export interface ServeOptions {
  host?: string;
  port?: number;
  stdio?: boolean;
  /** `TOKEN=principal` pairs. */
  tokens: string[];
  /** `OBSERVER=OWNER` pairs: OBSERVER may list and subscribe to OWNER's jobs. */
  observers?: string[];
  heartbeatIntervalSec?: number;
  resumeWindowSec?: number;
  backPressureLag?: number;
  maxFrameBytes?: number;
  credentialsEndpoint?: string;
  log?: (line: string) => void;
}

function pairs(flag: string, items: string[]): [string, string][] {
  return items.map((item) => {
    const i = item.indexOf('=');
    if (i <= 0 || i === item.length - 1) {
      throw new ToolError('E_USAGE', `--${flag} "${item}" is not of the form A=B`, `e.g. --${flag} secret=alice`);
    }
    return [item.slice(0, i), item.slice(i + 1)];
  });
}

export function buildRuntime(o: ServeOptions): Runtime {
  const observers = new Map<string, Set<string>>();
  for (const [obs, owner] of pairs('observe', o.observers ?? [])) {
    observers.set(obs, (observers.get(obs) ?? new Set()).add(owner));
  }
  const opts: RuntimeOptions = {
    tokens: new Map(pairs('token', o.tokens)),
    agents: CONFORMANCE_AGENTS,
    heartbeatIntervalSec: o.heartbeatIntervalSec,
    resumeWindowSec: o.resumeWindowSec,
    backPressureLag: o.backPressureLag,
    maxFrameBytes: o.maxFrameBytes,
    provisioner: new LocalProvisioner(o.credentialsEndpoint),
    observers,
    log: o.log,
  };
  return new Runtime(opts);
}

export interface Serving {
  runtime: Runtime;
  url?: string;
  close(): Promise<void>;
}

/** `arcp serve`: the reference runtime on loopback WebSocket, or on this process's stdio. */
export async function serve(o: ServeOptions): Promise<Serving> {
  const runtime = buildRuntime(o);
  if (o.stdio) {
    const t = runtime.serveStdio(process.stdin, process.stdout);
    return {
      runtime,
      close: async () => {
        t.close();
        await runtime.close();
        // An open stdin keeps the process alive after a stop signal: let it go.
        process.stdin.destroy();
      },
    };
  }
  try {
    const l = await runtime.listen(o.host ?? '127.0.0.1', o.port ?? 0);
    return { runtime, url: l.url, close: () => runtime.close() };
  } catch (e) {
    throw bindError(e, { host: o.host, port: o.port });
  }
}
