import { z } from 'zod';

/**
 * Bumped when a reader of an older version could misread a tape of this one. 2: the redaction
 * rules stored as counts and a digest, recorded gaps, stdio pipe ends (`transport.close` from
 * a side), and what an HTTP client got (`client`). Format 1 tapes read as before.
 */
export const FORMAT_VERSION = 2;
/** SQLite `application_id` of every tape: "ARCP". Anything else is a foreign file. */
export const APPLICATION_ID = 0x41524350;
export const HASH_ALGORITHM = 'sha256';
/** The contract the tool implements: the v1.1 draft, pinned by the sha256 of its text. */
export const SPEC_VERSION = '1.1';
export const SPEC_SHA256 = '748974cdc3d73c9199dc260c816edf586e1e2ae06fd2fe59fdc2d4cba092dde3';

export const DIRECTIONS = ['c2s', 's2c', 'meta'] as const;
export const Direction = z.enum(DIRECTIONS);
export type Direction = z.infer<typeof Direction>;

export const CHANNEL_KINDS = ['ws', 'stdio', 'http'] as const;
export const ChannelKind = z.enum(CHANNEL_KINDS);
export type ChannelKind = z.infer<typeof ChannelKind>;

/**
 * What one frame is. Transport events carry a small JSON blob (close code, error text);
 * HTTP heads carry `{method, path, headers}` / `{status, headers}` with headers as ordered pairs.
 */
export const FRAME_KINDS = [
  'transport.open',
  'transport.close',
  'transport.error',
  'ws.text',
  'ws.binary',
  'ws.close',
  'stdio.line',
  'http.request',
  'http.request.body',
  'http.response',
  'http.response.body',
] as const;
export const FrameKind = z.enum(FRAME_KINDS);
export type FrameKind = z.infer<typeof FrameKind>;

/** Flags set by the writer, off the hot path. */
export const FLAG = {
  binary: 1,
  invalidUtf8: 2,
  notJson: 4,
  redacted: 8,
  large: 16,
  sse: 32,
  /** A compressed body that was redacted and compressed again: its bytes are not the upstream's. */
  reencoded: 64,
} as const;
export type FlagName = keyof typeof FLAG;
export const LARGE_FRAME = 1024 * 1024;

export function flagNames(flags: number): FlagName[] {
  return (Object.keys(FLAG) as FlagName[]).filter((k) => (flags & FLAG[k]) !== 0);
}

/** Kinds whose payload is an ARCP frame (one message). */
export const isMessageKind = (k: FrameKind): boolean => k === 'ws.text' || k === 'ws.binary' || k === 'stdio.line';
export const isBodyKind = (k: FrameKind): boolean => k === 'http.request.body' || k === 'http.response.body';
export const isHeadKind = (k: FrameKind): boolean => k === 'http.request' || k === 'http.response';

export const HeaderPairs = z.array(z.tuple([z.string(), z.string()]));
export type HeaderPairs = z.infer<typeof HeaderPairs>;
export const RequestHead = z.object({ method: z.string(), path: z.string(), headers: HeaderPairs, upstream: z.string().optional() });
export type RequestHead = z.infer<typeof RequestHead>;
export const ResponseHead = z.object({ status: z.number().int(), headers: HeaderPairs });
export type ResponseHead = z.infer<typeof ResponseHead>;
export const TransportEvent = z.looseObject({
  code: z.number().optional(),
  reason: z.string().optional(),
  error: z.string().optional(),
  /** HTTP: what the client got when the response did not complete, `reset` or `gone` (docs/tape-format.md); other values are kept, not acted on. */
  client: z.string().optional(),
});
export type TransportEvent = z.infer<typeof TransportEvent>;

export const FrameRow = z.object({
  seq: z.number().int().positive(),
  channel: z.number().int().positive(),
  dir: Direction,
  kind: FrameKind,
  mono_us: z.number().int().nonnegative(),
  wall_ms: z.number().int(),
  hash: z.string().length(64),
  size: z.number().int().nonnegative(),
  flags: z.number().int().nonnegative(),
  /**
   * Body rows only: the chunks this row holds, `[size, mono_us]` each, when more than one.
   * Consecutive chunks of one exchange written in one batch share a row (and a blob).
   */
  parts: z.array(z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])).nullable(),
});
export type FrameRow = z.infer<typeof FrameRow>;

const DIRECTION_SET = new Set<unknown>(DIRECTIONS);
const KIND_SET = new Set<unknown>(FRAME_KINDS);
const uint = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * `FrameRow.safeParse(r).success`, without building a new object: the reader checks every row
 * it streams, and this is most of a row's cost otherwise. When it says no, the reader asks the
 * schema why (`test/tape/format.test.ts` holds the two to the same verdicts).
 */
export function isFrameRow(r: Record<string, unknown>): boolean {
  if (!(uint(r.seq) && (r.seq as number) > 0 && uint(r.channel) && (r.channel as number) > 0)) return false;
  if (!DIRECTION_SET.has(r.dir) || !KIND_SET.has(r.kind)) return false;
  if (!(uint(r.mono_us) && Number.isSafeInteger(r.wall_ms) && typeof r.hash === 'string' && r.hash.length === 64 && uint(r.size) && uint(r.flags))) return false;
  if (r.parts === null) return true;
  if (!Array.isArray(r.parts)) return false;
  for (const p of r.parts) if (!Array.isArray(p) || p.length !== 2 || !uint(p[0]) || !uint(p[1])) return false;
  return true;
}

/** A row's chunks as they arrived: the row itself, or each of its parts. */
export function chunksOf<F extends FrameRow & { data: Buffer }>(f: F): { data: Buffer; mono_us: number }[] {
  if (!f.parts) return [{ data: f.data, mono_us: f.mono_us }];
  let off = 0;
  return f.parts.map(([size, mono_us]) => ({ data: f.data.subarray(off, (off += size)), mono_us }));
}

export const ChannelInfo = z.looseObject({
  /** ws: the client's request URL and upstream; http: route prefix and upstream; stdio: the command. */
  url: z.string().optional(),
  upstream: z.string().optional(),
  command: z.array(z.string()).optional(),
  headers: HeaderPairs.optional(),
  protocol: z.string().optional(),
  /** Set by `tape import`: the scenario and connection name in the source capture. */
  scenario: z.string().optional(),
  conn: z.string().optional(),
});
export type ChannelInfo = z.infer<typeof ChannelInfo>;

export const ChannelRow = z.object({
  id: z.number().int().positive(),
  kind: ChannelKind,
  label: z.string(),
  opened_ms: z.number().int(),
  info: ChannelInfo,
});
export type ChannelRow = z.infer<typeof ChannelRow>;

/** The rules a recorder applies (held in memory, handed to the writer; never stored as text). */
export const RedactionRules = z.object({
  enabled: z.boolean(),
  pointers: z.array(z.string()),
  headers: z.array(z.string()),
  regexes: z.array(z.string()),
  /** Query parameter names whose values are credentials. */
  query: z.array(z.string()).optional(),
});
export type RedactionRules = z.infer<typeof RedactionRules>;

/** What a tape stores of its rules: counts and a salted digest (see summarizeRules). */
export const RedactionSummary = z.object({
  enabled: z.boolean(),
  defaults: z.boolean(),
  counts: z.object({ pointers: z.number().int(), headers: z.number().int(), regexes: z.number().int(), query: z.number().int() }),
  extra_digest: z.string(),
});
export type RedactionSummary = z.infer<typeof RedactionSummary>;

/** The counts of a stored `redaction` value: a summary, or the rule lists older tapes stored. */
export function redactionCounts(r: RedactionSummary | RedactionRules): RedactionSummary['counts'] {
  return 'counts' in r ? r.counts : { pointers: r.pointers.length, headers: r.headers.length, regexes: r.regexes.length, query: r.query?.length ?? 0 };
}

/** A fork's family record (`arcp fork`): where it branched from its parent and how it differs. */
export const Lineage = z.object({
  /** The parent tape's path, as given to fork. */
  parent: z.string().optional(),
  parent_fingerprint: z.string().optional(),
  /** The fork step's first frame in the parent. */
  at_seq: z.number().int().optional(),
  note: z.string().optional(),
  /** The step, as `arcp tape show` addresses it (`job:1/llm:3`), and what it is. */
  step: z.string().optional(),
  step_role: z.enum(['client', 'runtime', 'llm', 'http']).optional(),
  /** The edit: how it was given (`set`, `patch`, `edit`, `none`) and as RFC 6902 operations on the step's document. */
  edit: z.object({ via: z.string(), ops: z.array(z.looseObject({ op: z.string(), path: z.string() })), file: z.string().optional() }).optional(),
  /** The fork command that made this tape. */
  command: z.array(z.string()).optional(),
  /** Continued live: the runtime that was driven, and where LLM calls after the fork point went. */
  continued: z.object({ runtime: z.string(), llm: z.string().optional() }).optional(),
  /** The parent's frames after the step were copied unchanged (a fork to replay to a client). */
  kept_rest: z.boolean().optional(),
});
export type Lineage = z.infer<typeof Lineage>;

/**
 * Frames the recorder received and forwarded but could not write (disk full, I/O error): where
 * in the log they belong (after `after_seq`), how many, when, on which channels, and why.
 */
export const TapeGap = z.object({
  after_seq: z.number().int().nonnegative(),
  frames: z.number().int().positive(),
  bytes: z.number().int().nonnegative(),
  from_mono_us: z.number().int().nonnegative(),
  to_mono_us: z.number().int().nonnegative(),
  from_wall_ms: z.number().int(),
  to_wall_ms: z.number().int(),
  channels: z.array(z.number().int().positive()),
  reason: z.string(),
  /** Body rows that were gathering chunks across batches when the gap began: they lack its chunks. */
  cut_rows: z.array(z.number().int().positive()).optional(),
});
export type TapeGap = z.infer<typeof TapeGap>;

export const TapeMeta = z.object({
  format_version: z.number().int(),
  hash_algorithm: z.literal(HASH_ALGORITHM),
  tool_version: z.string(),
  spec_version: z.string(),
  spec_sha256: z.string(),
  command_line: z.array(z.string()),
  started_at: z.string(),
  ended_at: z.string().optional(),
  /** Rules in full while the writer is handed them; a summary once stored (older tapes stored the lists). */
  redaction: z.union([RedactionSummary, RedactionRules]),
  lineage: Lineage.nullable(),
  fingerprint: z.string().optional(),
  frame_count: z.number().int().optional(),
  gaps: z.array(TapeGap).optional(),
});
export type TapeMeta = z.infer<typeof TapeMeta>;
