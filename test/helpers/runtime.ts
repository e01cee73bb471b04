import type { ArcpError } from '../../src/engine/errors.js';
import { ArcpClient, type ClientOptions } from '../../src/client/client.js';
import { referenceAgents } from '../../src/runtime/agents/index.js';
import { LocalProvisioner } from '../../src/runtime/provisioner.js';
import { Runtime } from '../../src/runtime/runtime.js';
import type { RuntimeOptions } from '../../src/runtime/options.js';

/** tok → alice, tok2 → bob, aud → auditor (who may observe alice's jobs). The agents `arcp serve` hosts (its assistant without an LLM). */
export async function startRuntime(opts: Partial<RuntimeOptions> = {}) {
  const provisioner = new LocalProvisioner('http://127.0.0.1:9/v1');
  const rt = new Runtime({
    tokens: new Map([
      ['tok', 'alice'],
      ['tok2', 'bob'],
      ['aud', 'auditor'],
    ]),
    agents: referenceAgents(() => undefined),
    provisioner,
    observers: new Map([['auditor', new Set(['alice'])]]),
    ...opts,
  });
  const l = await rt.listen('127.0.0.1', 0);
  return { rt, url: l.url, provisioner, close: () => rt.close() };
}

export const connect = (url: string, token = 'tok', o: Partial<ClientOptions> = {}) =>
  ArcpClient.connect(url, { token, requestTimeoutMs: 5000, ...o });

/** Awaits a promise that must fail; returns its ArcpError. */
export async function failure(p: Promise<unknown>): Promise<ArcpError> {
  try {
    await p;
  } catch (e) {
    return e as ArcpError;
  }
  throw new Error('expected a failure');
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
