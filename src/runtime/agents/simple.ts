import { ArcpError } from '../../engine/errors.js';
import type { AgentDefinition } from '../agent.js';
import { opt } from './input.js';

export const echo: AgentDefinition = {
  name: 'echo',
  run: async (ctx) => {
    ctx.log('info', 'echo');
    return { echoed: ctx.input ?? null };
  },
};

export const chatty: AgentDefinition = {
  name: 'chatty',
  run: async (ctx) => {
    const dataset = opt(ctx.input, 'dataset', 's3://example/sales.csv');
    ctx.status('fetching', 'loading dataset');
    ctx.log('info', '12,408 rows loaded', { attributes: { dataset } });
    ctx.thought("Outlier in column 'revenue' row 4421");
    ctx.metric('rows', 12408, 'row', { table: 'sales' });
    const tryCall = async (tool: string, args: unknown, callId: string, result: unknown) => {
      try {
        await ctx.toolCall(tool, args, () => result, { callId });
      } catch (e) {
        if (!(e instanceof ArcpError)) throw e;
      }
    };
    await tryCall('stats.summarize', { column: 'revenue' }, 'c1', { mean: 348.12, p95: 1102.4 });
    await tryCall('shell.exec', { cmd: 'rm -rf /tmp/cache' }, 'c2', { exit: 0 });
    ctx.artifact({ uri: `arcp://artifacts/${ctx.jobId}/report.html`, content_type: 'text/html', byte_size: 38291 });
    ctx.event('x-vendor.acme.note', { note: 'vendor-specific event kind' });
    ctx.status('done');
    return { outliers: 3, total_usd: 42000 };
  },
};

export const progress: AgentDefinition = {
  name: 'progress',
  run: async (ctx) => {
    const total = opt(ctx.input, 'total', 10);
    const tickMs = opt(ctx.input, 'tickMs', 20);
    for (let i = 1; i <= total; i++) {
      if (i > 1) await ctx.sleep(tickMs);
      ctx.progress(i, total, 'files', `file-${i}.ts`);
    }
    return { indexed: total };
  },
};

export const report: AgentDefinition = {
  name: 'report',
  run: async (ctx) => {
    const chunks = opt(ctx.input, 'chunks', 40);
    const chunkBytes = opt(ctx.input, 'chunkBytes', 8192);
    const encoding = opt(ctx.input, 'encoding', 'utf8') === 'base64' ? 'base64' : 'utf8';
    const parts: Buffer[] = [];
    for (let i = 0; i < chunks; i++) {
      if (encoding === 'base64') {
        parts.push(Buffer.from(Array.from({ length: chunkBytes }, (_, j) => (i * 31 + j) & 0xff)));
      } else {
        const head = `Section ${i}: `;
        parts.push(Buffer.from((head + 'lorem ipsum dolor sit amet '.repeat(Math.ceil(chunkBytes / 27))).slice(0, Math.max(chunkBytes, head.length)), 'utf8'));
      }
    }
    return ctx.streamResult(parts, { encoding, summary: `report with ${chunks} chunks` });
  },
};

export const fail: AgentDefinition = {
  name: 'fail',
  run: async (ctx) => {
    const mode = opt(ctx.input, 'mode', 'throw');
    ctx.log('warn', 'about to fail');
    if (mode === 'permission') throw new ArcpError('PERMISSION_DENIED', 'agent refused');
    if (mode === 'invalid') throw new ArcpError('INVALID_REQUEST', 'agent rejected its input');
    if (mode === 'code') {
      const code = opt(ctx.input, 'code', 'INTERNAL_ERROR');
      const message = opt(ctx.input, 'message', `agent failed with ${code}`);
      const err = new ArcpError('INTERNAL_ERROR', message);
      (err as { code: string }).code = code;
      (err as { retryable: boolean }).retryable = false;
      throw err;
    }
    throw new Error('boom: agent crashed');
  },
};

const refactorRun = (handler: string) => async (ctx: Parameters<NonNullable<AgentDefinition['run']>>[0]) => {
  ctx.log('info', `refactor handler ${handler}`);
  return { handler, version: ctx.version, agent: ctx.agent, input: ctx.input ?? null };
};

export const refactor: AgentDefinition = {
  name: 'refactor',
  versions: { '1.0.0': refactorRun('v1'), '2.0.0': refactorRun('v2') },
  default: '2.0.0',
};

export const llm: AgentDefinition = {
  name: 'llm',
  credentials: true,
  run: async (ctx) => {
    const models = ctx.lease['model.use'] ?? [];
    ctx.log('info', `credentials issued: ${ctx.credentials?.length ?? 0}`);
    // Optional beyond the profile: invoke a model, which the lease must cover (§9.7).
    const model = opt(ctx.input, 'model', '');
    if (model) ctx.useModel(model);
    return { model_lease: models };
  },
};

export const child: AgentDefinition = {
  name: 'child',
  run: async (ctx) => {
    const suite = opt(ctx.input, 'suite', 'all');
    ctx.status('running', `suite ${suite}`);
    ctx.log('info', `running ${suite} suite`);
    return { passed: 127, failed: 0 };
  },
};

export const parent: AgentDefinition = {
  name: 'parent',
  run: async (ctx) => {
    const violate = opt(ctx.input, 'violate', true);
    const waitMs = opt(ctx.input, 'waitMs', 150);
    ctx.status('delegating');
    const first = ctx.delegate({
      agent: 'child',
      input: { suite: 'all' },
      lease_request: { 'fs.read': ['/workspace/app/tests/**'] },
      delegateId: 'del_1',
    });
    if (violate) {
      try {
        await ctx.delegate({ agent: 'child', input: {}, lease_request: { 'fs.write': ['/etc/**'] }, delegateId: 'del_bad' });
      } catch (e) {
        if (!(e instanceof ArcpError)) throw e;
      }
    }
    await first;
    await ctx.sleep(waitMs);
    return { delegated: true };
  },
};
