import { createHash } from 'node:crypto';
import { ArcpClient } from '../client/client.js';
import type { JobHandle } from '../client/job-handle.js';
import { ToolError } from '../errors.js';

/** How our own client runs each client scenario (docs/conformance.md): the driver for `arcp conform client`. */
const SCENARIOS: Record<string, (c: ArcpClient) => Promise<void>> = {
  handshake: echo,
  'unknown-fields': echo,
  'vendor-kinds': echo,
  'unknown-scheme': echo,
  heartbeat: (c) => new Promise<void>((resolve) => c.once('close', () => resolve())),
  ack: flood,
  'ack-not-negotiated': flood,
  'result-chunk': async (c) => {
    const h = c.submit({ agent: 'report', input: { chunks: 5, chunkBytes: 300, encoding: 'base64' } });
    const result = await h.done;
    const bytes = assemble(h);
    await c.submit({ agent: 'echo', input: { result_id: result.result_id, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') } }).done;
  },
  resume: ticker,
  gap: ticker,
  subscribe: async (c) => {
    const list = await c.listJobs({ filter: { status: ['running'] } });
    const job = list.jobs.find((j) => j.agent.split('@')[0] === 'ticker');
    if (!job) throw new Error('the runtime lists no running ticker job');
    await (await c.subscribe(job.job_id, { history: true })).done;
  },
};

async function echo(c: ArcpClient): Promise<void> {
  await c.submit({ agent: 'echo', input: { hello: 'conformance' } }).done;
}
async function flood(c: ArcpClient): Promise<void> {
  await c.submit({ agent: 'flood', input: { count: 200 } }).done;
}
async function ticker(c: ArcpClient): Promise<void> {
  await c.submit({ agent: 'ticker', input: { ticks: 6, tickMs: 100 } }).done;
}

/** The result_chunk events of a job, decoded and joined in chunk_seq order (§8.4). */
export function assemble(h: JobHandle): Buffer {
  return Buffer.concat(
    h.events
      .filter((e) => e.kind === 'result_chunk')
      .map((e) => e.body as { chunk_seq: number; data: string; encoding: string })
      .sort((a, b) => a.chunk_seq - b.chunk_seq)
      .map((b) => Buffer.from(b.data, b.encoding === 'base64' ? 'base64' : 'utf8')),
  );
}

export const DRIVER_SCENARIOS = Object.keys(SCENARIOS);

/** Runs the scenario named in ARCP_CONFORMANCE_SCENARIO against ARCP_URL with ARCP_TOKEN. */
export async function runDriver(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { ARCP_URL: url, ARCP_TOKEN: token, ARCP_CONFORMANCE_SCENARIO: name } = env;
  if (!url || !token || !name) throw new ToolError('E_USAGE', 'ARCP_URL, ARCP_TOKEN and ARCP_CONFORMANCE_SCENARIO must be set', 'run this under `arcp conform client -- arcp conform driver`');
  const scenario = SCENARIOS[name];
  if (!scenario) throw new ToolError('E_USAGE', `unknown scenario "${name}"`, `known: ${DRIVER_SCENARIOS.join(', ')}`);
  const c = await ArcpClient.connect(url, { token, autoAckMs: 250, idlePing: true, autoResume: true, requestTimeoutMs: 10_000 });
  try {
    await scenario(c);
  } catch (e) {
    throw new ToolError('E_UPSTREAM', `scenario ${name}: ${(e as Error).message}`, undefined, 1);
  } finally {
    if (!c.current.closed || name !== 'heartbeat') await c.close();
  }
}
