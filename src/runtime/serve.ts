import { bindError, ToolError } from '../errors.js';
import { DEFAULT_LLM, type LlmSettings } from './agents/assistant.js';
import { referenceAgents } from './agents/index.js';
import { DIALECT_NAMES } from '../llm/dialects.js';
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
  /** The assistant agent's LLM API (`--llm-url`, `--llm-api`, `--llm-model`, `--llm-key`). */
  llm?: Partial<LlmSettings>;
  log?: (line: string) => void;
}

/** Checks the LLM flags; the URL may be absent (the assistant then fails its jobs saying so). */
export function llmSettings(o: Partial<LlmSettings> = {}): LlmSettings {
  const s = { ...DEFAULT_LLM, ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) } as LlmSettings;
  if (!DIALECT_NAMES.includes(s.api)) throw new ToolError('E_USAGE', `--llm-api "${s.api}" is not one of ${DIALECT_NAMES.join(', ')}`, 'e.g. --llm-api openai');
  if (s.url !== undefined && (!URL.canParse(s.url) || !/^https?:$/.test(new URL(s.url).protocol))) {
    throw new ToolError('E_USAGE', `--llm-url "${s.url}" is not an http:// or https:// URL`, 'e.g. --llm-url http://127.0.0.1:8080/v1');
  }
  return s;
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
  const llm = llmSettings(o.llm);
  const observers = new Map<string, Set<string>>();
  for (const [obs, owner] of pairs('observe', o.observers ?? [])) {
    observers.set(obs, (observers.get(obs) ?? new Set()).add(owner));
  }
  const opts: RuntimeOptions = {
    tokens: new Map(pairs('token', o.tokens)),
    agents: referenceAgents(() => llm),
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
