import type { ArcpRecord, Attributes, ExecutionError, ExecutionEvent, FrameRef, RecordKind } from './schema.js';
import { valueAt } from '../json/pointer.js';
import { refOf, type Msg } from './walk.js';

type Value = string | number | boolean | null;
type At = FrameRef | undefined;
/** A frame with its wall-clock time: where an action starts or ends. */
export type Timed = { seq: number; sha256: string; wall: number };

/**
 * A frame ref at a pointer of a message: what a field of a record cites. A pointer the frame
 * does not hold (an optional field left out) cites the nearest part it does hold, so evidence
 * never points at nothing.
 */
export function at(m: Msg | undefined, pointer?: string): At {
  if (!m) return undefined;
  let p = pointer;
  while (p && !valueAt(m.env, p).found) p = p.slice(0, p.lastIndexOf('/'));
  return refOf(m, p || undefined);
}

/**
 * Assembles one record and its evidence side by side: every field set here names the frames
 * it came from, so the evidence cannot drift from what the record says.
 */
export class RecordBuilder {
  private readonly event: Partial<ExecutionEvent> = {};
  private readonly attributes: Attributes = {};
  private readonly fields: Record<string, FrameRef[]> = {};

  constructor(
    private readonly fingerprint: string,
    readonly kind: RecordKind,
  ) {}

  cite(field: string, refs: At[]): void {
    const list = (this.fields[field] ??= []);
    for (const r of refs) if (r && !list.some((x) => x.seq === r.seq && x.pointer === r.pointer)) list.push(r);
    if (!list.length) delete this.fields[field];
  }

  set<K extends 'id' | 'intent' | 'action' | 'inputs' | 'output' | 'correlationId'>(field: K, value: ExecutionEvent[K], ...refs: At[]): this {
    this.event[field] = value;
    this.cite(field, refs);
    return this;
  }

  attr(key: string, value: Value | undefined, ...refs: At[]): this {
    if (value === undefined) return this;
    this.attributes[key] = value;
    this.cite(`attributes.${key}`, refs);
    return this;
  }

  /** ok with an output, or error with an error (and, for a cut stream, what came before it). */
  outcome(o: { ok: true; output: unknown; refs: At[] } | { ok: false; error: ExecutionError; refs: At[]; output?: unknown }): this {
    this.event.status = o.ok ? 'ok' : 'error';
    this.cite('status', o.refs);
    if (o.ok || o.output !== undefined) this.set('output', o.output ?? null, ...o.refs);
    if (!o.ok) {
      this.event.error = o.error;
      this.cite('error', o.refs);
    }
    return this;
  }

  /** The recorder's wall clock at the first and last frame of the action (never backwards). */
  span(start: Timed, end: Timed): this {
    const t1 = Math.max(start.wall, end.wall);
    this.event.startedAt = new Date(start.wall).toISOString();
    this.event.completedAt = new Date(t1).toISOString();
    this.event.durationMs = t1 - start.wall;
    this.cite('startedAt', [refOf(start)]);
    this.cite('completedAt', [refOf(end)]);
    this.cite('durationMs', [refOf(start), refOf(end)]);
    return this;
  }

  build(job: string | undefined): ArcpRecord {
    const event = { ...this.event, attributes: { 'arcp.kind': this.kind, ...this.attributes } } as ExecutionEvent;
    this.cite('attributes.arcp.kind', this.fields.id ?? []);
    const r: ArcpRecord = { kind: this.kind, event, evidence: { tape: this.fingerprint, fields: this.fields } };
    if (job) r.job = job;
    return r;
  }
}

/** An ARCP error body (job.error, a tool_result error, session.error) as an IntentProof error. */
export function arcpError(body: Record<string, unknown>): ExecutionError {
  const code = typeof body.code === 'string' ? body.code : undefined;
  const message = typeof body.message === 'string' ? body.message : '';
  return code ? { name: 'ArcpError', message, code } : { name: 'ArcpError', message };
}

export const json = (v: unknown): string | undefined => (v === undefined ? undefined : JSON.stringify(v));
