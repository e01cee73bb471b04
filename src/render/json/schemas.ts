import { z } from 'zod';
import { ReportSchema as ConformReportSchema } from '../../conform/report.js';
import { ChannelRow, FrameRow, TapeMeta } from '../../tape/format.js';

/**
 * Every `--json` output of arcp, one schema each, named `arcp-<command>/<version>` in its
 * `schema` field. Bump the version when a field changes meaning; adding a field does not.
 *
 * The CLI's own fields are camelCase. Objects that mirror another format keep that format's
 * names, so the same value reads the same everywhere: the tape's `meta`, channel and frame rows
 * (the on-disk tables, docs/tape-format.md), ARCP messages (the wire), requirement entries
 * (src/conform/requirements.json) and execution records (IntentProof). `npm run schemas` writes
 * docs/schemas/ from here; a test holds the two equal.
 */

/** A nested object this schema does not spell out (its own module documents it); typed loosely so library interfaces fit. */
const loose = z.looseObject({}) as z.ZodType<object>;
const envelope = <N extends string, S extends z.ZodRawShape>(name: N, shape: S) => z.strictObject({ schema: z.literal(name), ...shape });

const Gap = z.looseObject({ frames: z.number().int(), bytes: z.number().int(), reason: z.string() });
const Divergence = loose;
const Addresses = { ws: z.string().optional(), http: z.string().optional(), stdio: z.string().optional() };
const TapeSummaryShape = {
  path: z.string(),
  fingerprint: z.string(),
  frames: z.number().int(),
  blobs: z.number().int(),
  channels: z.number().int(),
  bytes: z.number().int(),
  durationMs: z.number(),
  lost: z.object({ frames: z.number().int(), bytes: z.number().int(), reason: z.string(), recorded: z.boolean() }).optional(),
  sealed: z.boolean(),
  walKept: z.boolean(),
  problems: z.array(z.string()),
};

const ReplayReportShape = {
  tape: z.string(),
  mode: z.enum(['runtime', 'client', 'http', 'diff']),
  ok: z.boolean(),
  tapeFingerprint: z.string(),
  replayFingerprint: z.string(),
  frames: z.object({ total: z.number().int(), replayed: z.number().int() }),
  divergences: z.array(Divergence),
  substitutions: z.array(z.object({ from: z.string(), to: z.string(), count: z.number().int(), kind: z.enum(['id', 'echo', 'shift']).optional(), pointer: z.string().optional() })),
  notes: z.array(z.string()),
  incomplete: z.string().optional(),
  command: z.object({ argv: z.array(z.string()), exitCode: z.number().int() }).optional(),
  durationMs: z.number(),
};

const Live = z.object({ pid: z.number().int(), startedAt: z.string() }).optional();
const JobLink = z.object({ n: z.number().int(), jobId: z.string(), linkedBy: z.string().optional() });

export const OUTPUTS = {
  'arcp-error/1': envelope('arcp-error/1', {
    code: z.string().describe('E_USAGE, E_INPUT, E_CONNECT, …; an ARCP error code (UNAUTHENTICATED, …) when the runtime refused'),
    message: z.string(),
    hint: z.string().optional().describe('what to do about it'),
    exitCode: z.number().int(),
  }),
  'arcp-serve/1': envelope('arcp-serve/1', { url: z.string(), token: z.string().optional().describe('the generated token, when none was given') }),
  'arcp-llm-serve/1': envelope('arcp-llm-serve/1', { url: z.string() }),
  /** One line per ARCP message the client received: the message as on the wire, with `schema` added. */
  'arcp-submit-message/1': z.looseObject({ schema: z.literal('arcp-submit-message/1'), type: z.string() }) as unknown as z.ZodType<{ schema: 'arcp-submit-message/1'; type: string }>,
  'arcp-record-listening/1': envelope('arcp-record-listening/1', { tape: z.string(), ...Addresses }),
  'arcp-record/1': envelope('arcp-record/1', { ...TapeSummaryShape, exitCode: z.number().int().optional().describe('the wrapped runtime'), clientExitCode: z.number().int().optional().describe('the --run client') }),
  'arcp-replay-listening/1': envelope('arcp-replay-listening/1', Addresses),
  'arcp-replay/1': envelope('arcp-replay/1', ReplayReportShape),
  'arcp-diff/1': envelope('arcp-diff/1', {
    a: z.string().describe('the first tape, as given'),
    b: z.string().describe('the second tape, as given'),
    relation: z.enum(['unrelated', 'fork']).describe('fork: one tape is a fork of the other (see `fork`)'),
    ok: z.boolean().describe('the tapes are equivalent (exit 0)'),
    fingerprints: z.object({ a: z.string(), b: z.string() }).optional().describe('relation unrelated: tape a\'s, and the one computed over the frames of b compared'),
    frames: z.object({ a: z.number().int(), compared: z.number().int() }).optional(),
    divergences: z.array(Divergence),
    notes: z.array(z.string()),
    fork: loose.optional().describe('relation fork: the fork point, the first divergence after it and a summary of what changed'),
    durationMs: z.number().optional(),
  }),
  'arcp-fork-step/1': envelope('arcp-fork-step/1', { step: z.string(), seq: z.number().int(), role: z.string(), kind: z.string(), api: z.string().optional(), document: z.unknown() }),
  'arcp-fork/1': envelope('arcp-fork/1', {
    child: z.string(),
    summary: z.object(TapeSummaryShape),
    lineage: loose,
    step: z.object({ address: z.string(), seq: z.number().int(), role: z.string(), what: z.string() }),
    edit: loose,
    before: z.unknown(),
    after: z.unknown(),
    continued: loose.optional(),
  }),
  'arcp-tape-ls/1': envelope('arcp-tape-ls/1', {
    dir: z.string(),
    tapes: z.array(
      z.object({
        path: z.string(),
        bytes: z.number().int(),
        error: z.string().optional(),
        startedAt: z.string().optional(),
        endedAt: z.string().optional(),
        frames: z.number().int().optional(),
        channels: z.number().int().optional(),
        fingerprint: z.string().optional(),
        parent: z.string().optional(),
      }),
    ),
  }),
  /** `tape show --json`, first line; then one `arcp-tape-show-frame/1` per frame. */
  'arcp-tape-show/1': envelope('arcp-tape-show/1', {
    path: z.string(),
    meta: TapeMeta.describe('the tape meta table, names as on disk'),
    live: Live,
    channels: z.array(ChannelRow.extend({ frames: z.number().int(), bytes: z.number().int() })),
    matched: z.number().int().optional().describe('with a filter: how many frames it matched'),
    jobs: z
      .array(
        z.object({
          n: z.number().int(),
          address: z.string(),
          jobId: z.string(),
          agent: z.string().nullish(),
          traceId: z.string().nullish(),
          parentJobId: z.string().nullish(),
          status: z.string().nullable(),
          submitSeq: z.number().int().nullish(),
          terminalSeq: z.number().int().nullish(),
          exchanges: z.array(z.object({ channel: z.number().int(), seq: z.number().int().optional(), method: z.string().optional(), path: z.string().optional(), status: z.number().int().nullish(), linkedBy: z.string().optional() })),
        }),
      )
      .optional(),
    steps: z.array(z.object({ address: z.string(), also: z.array(z.string()), seq: z.number().int(), channel: z.number().int(), role: z.string(), job: z.number().int().nullish(), what: z.string() })).optional(),
  }),
  'arcp-tape-show-frame/1': z.strictObject({
    schema: z.literal('arcp-tape-show-frame/1'),
    ...FrameRow.shape,
    what: z.string(),
    flagNames: z.array(z.string()),
    step: z.string().optional(),
    job: JobLink.optional(),
  }),
  'arcp-tape-frame/1': envelope('arcp-tape-frame/1', { frame: FrameRow.extend({ flagNames: z.array(z.string()) }), payload: loose, wholeBody: loose.optional() }),
  'arcp-tape-exchange/1': envelope('arcp-tape-exchange/1', {
    channel: z.number().int(),
    route: z.string().optional(),
    method: z.string(),
    path: z.string(),
    status: z.number().int().nullish(),
    client: z.string().optional(),
    request: loose,
    response: loose,
  }),
  'arcp-tape-verify/1': envelope('arcp-tape-verify/1', {
    path: z.string(),
    ok: z.boolean(),
    frames: z.number().int(),
    blobs: z.number().int(),
    fingerprint: z.string(),
    storedFingerprint: z.string().optional(),
    unsealed: z.boolean(),
    live: Live,
    gaps: z.array(Gap),
    problems: z.array(z.string()),
    attestation: z.object({ ok: z.boolean(), signature: z.string(), keyId: z.string().optional(), attestedAt: z.string().optional(), attestedBy: z.string().optional(), records: z.string().optional(), problems: z.array(z.string()) }).optional(),
  }),
  'arcp-tape-scan/1': envelope('arcp-tape-scan/1', {
    path: z.string(),
    frames: z.number().int(),
    findings: z.array(z.object({ seq: z.number().int(), channel: z.number().int(), kind: z.string(), rule: z.string(), preview: z.string() })),
  }),
  'arcp-tape-tree/1': envelope('arcp-tape-tree/1', { dir: z.string(), roots: z.array(loose).describe('each tape: path, fingerprint, sealed, startedAt, lineage, outcome, children (the same shape)'), unreadable: z.array(z.object({ path: z.string(), error: z.string() })) }),
  'arcp-tape-import/1': envelope('arcp-tape-import/1', { ...TapeSummaryShape, lines: z.number().int().optional().describe('JSONL: lines read'), entries: z.number().int().optional().describe('HAR: entries read') }),
  'arcp-tape-redact/1': envelope('arcp-tape-redact/1', TapeSummaryShape),
  'arcp-tape-keygen/1': envelope('arcp-tape-keygen/1', { privateKey: z.string(), publicKey: z.string(), keyId: z.string() }),
  'arcp-tape-attest/1': envelope('arcp-tape-attest/1', { path: z.string(), attestation: loose.describe('the attestation file as written (its own schema arcp.attestation/1)') }),
  'arcp-tape-records-check/1': envelope('arcp-tape-records-check/1', { file: z.string(), tape: z.string(), ok: z.boolean(), records: z.number().int(), fingerprint: z.string().optional(), differences: z.array(z.string()) }),
  'arcp-tape-records-written/1': envelope('arcp-tape-records-written/1', { path: z.string(), sha256: z.string(), bytes: z.number().int(), records: z.number().int(), fingerprint: z.string() }),
  'arcp-report-written/1': envelope('arcp-report-written/1', {
    path: z.string(),
    bytes: z.number().int(),
    tape: z.string(),
    frames: z.number().int(),
    lanes: z.number().int(),
    jobs: z.number().int(),
    records: z.number().int(),
    clipped: z.number().int().describe('frames whose text the page holds clipped'),
    textless: z.number().int().describe('frames past the text budget: summary and seq only'),
  }),
  'arcp-conform-report/1': ConformReportSchema.extend({ schema: z.literal('arcp-conform-report/1') }),
  'arcp-conform-list/1': envelope('arcp-conform-list/1', {
    checks: z.array(
      z.object({
        id: z.string(),
        kind: z.string(),
        title: z.string(),
        level: z.enum(['MUST', 'SHOULD', 'MAY']),
        sections: z.array(z.string()),
        requirements: z.array(z.string()),
        description: z.string(),
        suites: z.array(z.enum(['server', 'client', 'tape'])),
        needs: z.record(z.string(), z.unknown()).optional(),
        scenarios: z.array(z.string()).optional(),
      }),
    ),
  }),
  'arcp-conform-coverage/1': envelope('arcp-conform-coverage/1', {
    spec: z.object({ file: z.string(), version: z.string(), sha256: z.string() }),
    rows: z.array(z.object({ requirement: loose.describe('an entry of requirements.json, names as there'), checks: z.array(z.string()), state: z.enum(['covered', 'not-observable', 'uncovered']) })),
    share: z.object({ all: z.number(), MUST: z.number(), SHOULD: z.number(), MAY: z.number() }),
    counts: z.object({ requirements: z.number().int(), observable: z.number().int(), covered: z.number().int(), notObservable: z.number().int(), uncovered: z.number().int() }),
  }),
} as const;

export type OutputName = keyof typeof OUTPUTS;
export type Output<N extends OutputName> = Omit<z.input<(typeof OUTPUTS)[N]>, 'schema'>;
