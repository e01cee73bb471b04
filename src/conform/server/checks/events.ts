import { createHash } from 'node:crypto';
import type { Received } from '../../peer.js';
import { accepted, codeOf, ev, orNothing, what, type Check } from './util.js';

export const progress: Check = {
  kind: 'server',
  id: 'events/progress',
  title: 'progress events count up from a non-negative current to total',
  requirements: ['8.2.1/current-non-negative', '8.2.1/current-within-total'],
  needs: { features: ['progress'], agents: ['progress'] },
  description: 'Runs `progress` with total 5: five progress events with current 1..5, never negative, never above total, then job.result {indexed: 5}.',
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session();
    const a = await accepted(ctx, s, { agent: ctx.agent('progress'), input: { total: 5, tickMs: 5 } });
    const end = await orNothing(s.terminal(a.jobId));
    const p = s.events(a.jobId).filter((r) => r.msg.payload.kind === 'progress');
    if (!p.length) {
      j.notExercised('8.2.1/current-non-negative', `\`progress\` emitted no progress events (ended with ${what(end)})`);
      return;
    }
    const neg = p.find((r) => !(typeof r.msg.payload.body?.current === 'number' && r.msg.payload.body.current >= 0));
    const over = p.find((r) => typeof r.msg.payload.body?.total === 'number' && r.msg.payload.body.current > r.msg.payload.body.total);
    j.expect(!neg, '8.2.1/current-non-negative', `${p.length} progress events, current ≥ 0`, `progress current ${JSON.stringify(neg?.msg.payload.body?.current)}`, ev(neg));
    j.expect(!over, '8.2.1/current-within-total', 'current ≤ total', `progress current ${over?.msg.payload.body.current} > total ${over?.msg.payload.body.total}`, ev(over));
  },
};

/** Decoded bytes of a job's result_chunk events, in chunk_seq order. */
function assemble(chunks: Received[]): Buffer {
  return Buffer.concat(
    [...chunks]
      .sort((x, y) => (x.msg.payload.body.chunk_seq as number) - (y.msg.payload.body.chunk_seq as number))
      .map((c) => Buffer.from(String(c.msg.payload.body.data), c.msg.payload.body.encoding === 'base64' ? 'base64' : 'utf8')),
  );
}

export const resultChunks: Check = {
  kind: 'server',
  id: 'events/result-chunk/assembled',
  title: 'A streamed result assembles, in chunk_seq order, to result_size bytes',
  requirements: ['8.4/assembled', '8.4/utf8-for-text', '8.4/may-stream'],
  needs: { features: ['result_chunk'], agents: ['report'] },
  description: 'Runs `report` with utf8 text chunks and with base64 binary chunks: result_size in job.result must equal the bytes the decoded chunks assemble to in chunk_seq order, each in the encoding asked for (ordering, result_id and more flags are judged by wire/result-chunk/rules).',
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session();
    for (const encoding of ['utf8', 'base64'] as const) {
      const a = await accepted(ctx, s, { agent: ctx.agent('report'), input: { chunks: 6, chunkBytes: 500, encoding } });
      const end = await orNothing(s.terminal(a.jobId));
      const chunks = s.events(a.jobId).filter((r) => r.msg.payload.kind === 'result_chunk');
      if (!chunks.length) {
        j.notExercised('8.4/assembled', `\`report\` (${encoding}) streamed no chunks; it ended with ${what(end)}`);
        continue;
      }
      j.info('8.4/may-stream', `${encoding}: ${chunks.length} chunks`);
      const bytes = assemble(chunks);
      const size = end?.msg.payload.result_size;
      j.expect(size === bytes.length, '8.4/assembled', `${encoding}: ${bytes.length} bytes assembled = result_size (sha256 ${createHash('sha256').update(bytes).digest('hex').slice(0, 12)}…)`, `${encoding}: the chunks assemble to ${bytes.length} bytes, result_size says ${size}`, ev(chunks[0], end));
      const wrong = chunks.find((c) => c.msg.payload.body.encoding !== encoding);
      j.expect(!wrong, '8.4/utf8-for-text', `${encoding} chunks for ${encoding === 'utf8' ? 'text' : 'binary'}`, `a chunk is ${wrong?.msg.payload.body.encoding} where ${encoding} was asked for`, ev(wrong));
    }
  },
};

export const chunkCap: Check = {
  kind: 'server',
  id: 'events/result-chunk/size-cap',
  title: 'A result chunk beyond the runtime\'s cap ends the job with INTERNAL_ERROR',
  requirements: ['14/chunk-size-cap', '14/oversize-internal-error'],
  needs: { features: ['result_chunk'], agents: ['report'] },
  description: "Asks `report` for one chunk of 1.5 MB. A runtime capping chunks at 1 MB (the draft's example) must end the job with INTERNAL_ERROR; one that streams it has a higher cap or none, which is noted.",
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session();
    const a = await accepted(ctx, s, { agent: ctx.agent('report'), input: { chunks: 1, chunkBytes: 1536 * 1024 } });
    const end = await orNothing(s.terminal(a.jobId, ctx.waitMs * 2));
    if (end?.msg.type === 'job.result') {
      j.info('14/chunk-size-cap', 'a 1.5 MB chunk was streamed: the cap, if any, is higher', ...ev(end));
      j.notExercised('14/oversize-internal-error', 'no chunk exceeded the cap');
      return;
    }
    j.pass('14/chunk-size-cap', 'the 1.5 MB chunk was refused', ...ev(end));
    j.expect(codeOf(end) === 'INTERNAL_ERROR', '14/oversize-internal-error', 'the oversized chunk ended the job with INTERNAL_ERROR', `the oversized chunk ended the job with ${what(end)}`, ev(end));
  },
};
