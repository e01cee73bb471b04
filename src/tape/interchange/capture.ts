import { z } from 'zod';

/**
 * One line of the peer-capture JSONL format (shared/fixtures/peer-captures/README.md),
 * and of `arcp tape export --jsonl`, which adds `kind` and `raw_base64` for frames that
 * are not ARCP text (HTTP, binary, invalid UTF-8).
 */
export const CaptureLine = z.looseObject({
  i: z.number(),
  ts: z.string(),
  mono_ms: z.number(),
  scenario: z.string(),
  conn: z.string(),
  dir: z.enum(['c2s', 's2c', 'meta']),
  raw: z.string().optional(),
  raw_base64: z.string().optional(),
  kind: z.string().optional(),
  channel: z.enum(['ws', 'stdio', 'http']).optional(),
  /** Set by export on a connection's first line: the tape's channel id, kept on import. */
  channel_id: z.number().int().positive().optional(),
  /** Body rows holding several chunks: `[size, mono_ms]` of each, in order. */
  parts: z.array(z.tuple([z.number(), z.number()])).optional(),
  frame: z.unknown().optional(),
  event: z.string().optional(),
});
export type CaptureLine = z.infer<typeof CaptureLine>;

/** Fields every line has; the rest of a meta line is its event's detail. */
export const COMMON_FIELDS = ['i', 'ts', 'mono_ms', 'scenario', 'conn', 'dir', 'event', 'kind', 'channel', 'channel_id', 'parts', 'raw', 'raw_base64'];

/** Transport events of the capture format and the frame kinds they become. */
export const META_KIND: Record<string, 'transport.open' | 'transport.close'> = {
  open: 'transport.open',
  spawn: 'transport.open',
  close: 'transport.close',
  exit: 'transport.close',
  terminate: 'transport.close',
};
