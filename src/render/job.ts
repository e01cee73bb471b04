import type { ChalkInstance } from 'chalk';
import type { JobMessage } from '../client/job-handle.js';

const brief = (v: unknown, max = 120): string => {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
};

/** One readable line per job message. */
export function formatJobMessage(m: JobMessage, c: ChalkInstance): string {
  const seq = m.event_seq !== undefined ? c.dim(`#${m.event_seq} `) : '';
  switch (m.type) {
    case 'job.accepted':
      return `${c.cyan('accepted')} ${m.payload.job_id} ${m.payload.agent ?? ''}${m.payload.parent_job_id ? c.dim(` (child of ${m.payload.parent_job_id})`) : ''}`;
    case 'job.event': {
      const { kind, body } = m.payload;
      const b = body as Record<string, unknown>;
      const text =
        kind === 'log' ? `[${b.level}] ${b.message}`
        : kind === 'thought' ? String(b.text)
        : kind === 'status' ? `${b.phase}${b.message ? `: ${b.message}` : ''}`
        : kind === 'metric' ? `${b.name} = ${b.value}${b.unit ? ` ${b.unit}` : ''}`
        : kind === 'progress' ? `${b.current}${b.total !== undefined ? `/${b.total}` : ''} ${b.units ?? ''} ${b.message ?? ''}`.trim()
        : kind === 'tool_call' ? `${b.call_id} ${b.tool}(${brief(b.args, 60)})`
        : kind === 'tool_result' ? `${b.call_id} ${b.error ? c.red(`error ${(b.error as { code: string }).code}`) : brief(b.result, 80)}`
        : kind === 'result_chunk' ? `${b.result_id} chunk ${b.chunk_seq} (${String(b.data).length} chars${b.more ? ', more' : ''})`
        : brief(body);
      return `${seq}${c.yellow(kind.padEnd(12))} ${text}`;
    }
    case 'job.result':
      return `${seq}${c.green('result')}       ${brief(m.payload.result ?? { result_id: m.payload.result_id, result_size: m.payload.result_size }, 200)}`;
    case 'job.error':
      return `${seq}${c.red('error')}        ${m.payload.code} (${m.payload.final_status}): ${m.payload.message}`;
    case 'job.cancelled':
      return `${c.magenta('cancelled')}    ${m.payload.reason ?? ''}`;
  }
}
