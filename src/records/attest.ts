import { createHash, createPublicKey, sign, verify } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { ToolError } from '../errors.js';
import { redactionCounts, type TapeMeta } from '../tape/format.js';
import { TOOL_VERSION } from '../tape/paths.js';
import { TapeReader } from '../tape/reader.js';
import { canonicalJson, jsonDifferences } from './json-value.js';
import { keyId, loadPrivateKey, loadPublicKey } from './keys.js';
import { loadRecords, verifyRecords } from './verify.js';
import { walkTape } from './walk.js';

export const ATTESTATION_SCHEMA = 'arcp.attestation/1';

const Hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const FileDigest = z.strictObject({ sha256: Hex64, bytes: z.number().int().nonnegative() });

/** What a tape's meta says of how it was made, as an attestation covers it: never a redaction rule's text. */
const AttestedMeta = z.strictObject({
  format_version: z.number().int(),
  tool_version: z.string(),
  spec_version: z.string(),
  spec_sha256: z.string(),
  started_at: z.string(),
  ended_at: z.string().nullable(),
  redaction: z.strictObject({
    enabled: z.boolean(),
    defaults: z.boolean().optional(),
    counts: z.strictObject({ pointers: z.number().int(), headers: z.number().int(), regexes: z.number().int(), query: z.number().int() }),
    extra_digest: z.string().optional(),
  }),
  lineage: z.strictObject({ parent: z.string().optional(), parent_fingerprint: z.string().optional(), at_seq: z.number().int().optional(), note: z.string().optional() }).nullable(),
  gaps: z.number().int().nonnegative(),
});

/** The signed statement: the tape (its fingerprint and exact bytes), its meta, and the records file's hash. */
export const Statement = z.strictObject({
  tape: z.strictObject({ fingerprint: z.string().regex(/^fp1:[0-9a-f]{64}$/), frames: z.number().int().nonnegative(), file: FileDigest, wal: FileDigest.optional() }),
  meta: AttestedMeta,
  records: z.strictObject({ file: z.string(), sha256: Hex64, bytes: z.number().int().nonnegative(), count: z.number().int().nonnegative() }).nullable(),
  attestedAt: z.iso.datetime(),
  attestedBy: z.string(),
  keyId: z.string(),
});
export type Statement = z.infer<typeof Statement>;

export const Attestation = z.strictObject({
  schema: z.literal(ATTESTATION_SCHEMA),
  statement: Statement,
  signature: z.strictObject({ alg: z.literal('ed25519'), keyId: z.string(), value: z.string().regex(/^[A-Za-z0-9+/]+=*$/) }),
});
export type Attestation = z.infer<typeof Attestation>;

function fileDigest(path: string): z.infer<typeof FileDigest> {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let bytes = 0;
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; bytes += n) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return { sha256: h.digest('hex'), bytes };
}

function attestedMeta(m: TapeMeta): z.infer<typeof AttestedMeta> {
  const r = m.redaction;
  const redaction = 'counts' in r ? { enabled: r.enabled, defaults: r.defaults, counts: r.counts, extra_digest: r.extra_digest } : { enabled: r.enabled, counts: redactionCounts(r) };
  return {
    format_version: m.format_version,
    tool_version: m.tool_version,
    spec_version: m.spec_version,
    spec_sha256: m.spec_sha256,
    started_at: m.started_at,
    ended_at: m.ended_at ?? null,
    redaction,
    lineage: m.lineage,
    gaps: m.gaps?.length ?? 0,
  };
}

/** What the tape's frames and meta say now (every blob hash-checked on the way). */
function tapeContent(tape: string): { fingerprint: string; frames: number; meta: Statement['meta']; live?: number } {
  const r = TapeReader.open(tape);
  let meta: Statement['meta'];
  let live: number | undefined;
  try {
    meta = attestedMeta(r.meta);
    live = r.live?.pid;
  } finally {
    r.close();
  }
  const walked = walkTape(tape, { message: () => undefined, exchange: () => undefined });
  return { fingerprint: walked.fingerprint, frames: walked.frames, meta, live };
}

/** The tape file's exact bytes (and its write-ahead log's, when one is left beside it). */
function tapeBytes(tape: string): Pick<Statement['tape'], 'file' | 'wal'> {
  const wal = `${tape}-wal`;
  return { file: fileDigest(tape), ...(existsSync(wal) && statSync(wal).size > 0 ? { wal: fileDigest(wal) } : {}) };
}

export interface AttestOptions {
  tape: string;
  key: string;
  records?: string;
  /** Where the attestation goes (default `<tape>.attestation.json`). */
  out?: string;
  force?: boolean;
}

/**
 * Signs a tape (and the records derived from it) with the user's Ed25519 key: a detached
 * attestation file over the tape's fingerprint and exact bytes, its meta and the records
 * file's hash. The records must be the tape's own (they are derived again and compared
 * first). Nothing is written into the tape.
 */
export function attestTape(o: AttestOptions): { path: string; attestation: Attestation } {
  const key = loadPrivateKey(o.key);
  const out = o.out ?? `${o.tape}.attestation.json`;
  if (!o.force && existsSync(out)) throw new ToolError('E_USAGE', `${out} exists`, 'pass --force to replace it, or name another --out');
  const content = tapeContent(o.tape);
  if (content.live) throw new ToolError('E_INPUT', `${o.tape} is being recorded (PID ${content.live})`, 'attest it once the recording has stopped and sealed it');
  let records: Statement['records'] = null;
  if (o.records) {
    const check = verifyRecords(o.records, o.tape);
    if (!check.ok) throw new ToolError('E_INPUT', `${o.records} are not the records of ${o.tape}: ${check.differences[0]}`, `derive them again: arcp tape records ${o.tape} --json > ${o.records}`, 1);
    const loaded = loadRecords(o.records);
    records = { file: basename(o.records), sha256: createHash('sha256').update(loaded.bytes).digest('hex'), bytes: loaded.bytes.length, count: loaded.doc!.records.length };
  }
  const pub = keyId(createPublicKey(key));
  const statement: Statement = { tape: { fingerprint: content.fingerprint, frames: content.frames, ...tapeBytes(o.tape) }, meta: content.meta, records, attestedAt: new Date().toISOString(), attestedBy: `arcp ${TOOL_VERSION}`, keyId: pub };
  const attestation: Attestation = {
    schema: ATTESTATION_SCHEMA,
    statement,
    signature: { alg: 'ed25519', keyId: pub, value: sign(null, Buffer.from(canonicalJson(statement)), key).toString('base64') },
  };
  try {
    writeFileSync(out, JSON.stringify(attestation, null, 2) + '\n');
  } catch (e) {
    throw new ToolError('E_IO', `cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'check the folder exists and is writable');
  }
  return { path: out, attestation };
}

export interface VerifyAttestationOptions {
  tape: string;
  signature: string;
  pubkey: string;
  /** The records file; default: the one the attestation names, beside the signature. */
  records?: string;
}

export interface AttestationCheck {
  ok: boolean;
  signature: string;
  keyId?: string;
  attestedAt?: string;
  attestedBy?: string;
  records?: string;
  problems: string[];
}

const short = (h: string) => h.slice(0, 16) + '…';

/**
 * Checks an attestation: the signature over its statement with the given public key, then
 * every fact it states against the tape and the records as they are now. Each failure is named:
 * which key, which bytes, which field of the meta, which record field.
 */
export function verifyAttestation(o: VerifyAttestationOptions): AttestationCheck {
  const pub = loadPublicKey(o.pubkey);
  if (!existsSync(o.signature)) throw new ToolError('E_INPUT', `no attestation at ${o.signature}`, 'make one with `arcp tape attest TAPE --key KEY`');
  const out: AttestationCheck = { ok: false, signature: o.signature, problems: [] };
  let a: Attestation;
  try {
    const parsed = Attestation.safeParse(JSON.parse(readFileSync(o.signature, 'utf8')));
    if (!parsed.success) {
      out.problems.push(`${o.signature} is not a whole attestation: ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`);
      return out;
    }
    a = parsed.data;
  } catch (e) {
    out.problems.push(`${o.signature} is not an attestation (not JSON)`);
    return out;
  }
  const s = a.statement;
  Object.assign(out, { keyId: s.keyId, attestedAt: s.attestedAt, attestedBy: s.attestedBy });
  const given = keyId(pub);
  if (a.signature.keyId !== given || s.keyId !== given) out.problems.push(`signed with key ${a.signature.keyId}, not with the given public key (${given})`);
  else if (!verify(null, Buffer.from(canonicalJson(s)), pub, Buffer.from(a.signature.value, 'base64'))) out.problems.push('the signature does not match the statement: the attestation was changed after it was signed');
  if (!existsSync(o.tape)) throw new ToolError('E_INPUT', `no tape at ${o.tape}`, 'check the path');
  // The bytes first, as they are: a change that leaves the file unreadable is still named.
  const bytes = tapeBytes(o.tape);
  if (bytes.file.sha256 !== s.tape.file.sha256) out.problems.push(`the tape file changed since it was attested: its sha256 is ${short(bytes.file.sha256)} (${bytes.file.bytes} bytes), attested ${short(s.tape.file.sha256)} (${s.tape.file.bytes} bytes)`);
  if ((bytes.wal?.sha256 ?? null) !== (s.tape.wal?.sha256 ?? null)) out.problems.push(`the tape's write-ahead log (-wal) ${bytes.wal ? (s.tape.wal ? 'changed' : 'appeared') : 'is gone'} since it was attested`);
  let content: ReturnType<typeof tapeContent> | undefined;
  try {
    content = tapeContent(o.tape);
  } catch (e) {
    if (!(e instanceof ToolError)) throw e;
    out.problems.push(`the tape no longer reads as recorded: ${e.message}`);
  }
  if (content) {
    if (content.fingerprint !== s.tape.fingerprint) out.problems.push(`the tape's frames changed: fingerprint ${content.fingerprint}, attested ${s.tape.fingerprint}`);
    else if (bytes.file.sha256 !== s.tape.file.sha256) out.problems.push('its frames are as attested (same fingerprint): what changed is elsewhere in the file');
    if (content.frames !== s.tape.frames) out.problems.push(`the tape holds ${content.frames} frames, attested ${s.tape.frames}`);
    for (const d of jsonDifferences(s.meta, content.meta)) out.problems.push(`the tape's meta ${d.pointer.slice(1).replace(/\//g, '.')} is ${JSON.stringify(d.actual) ?? 'absent'}, attested ${JSON.stringify(d.expected) ?? 'absent'}`);
  }
  checkRecords(o, s, out);
  out.ok = out.problems.length === 0;
  return out;
}

function checkRecords(o: VerifyAttestationOptions, s: Statement, out: AttestationCheck): void {
  if (!s.records) {
    if (o.records) throw new ToolError('E_USAGE', `the attestation covers no records, so ${o.records} cannot be checked against it`, 'attest again with --records, or leave --records out');
    return;
  }
  const file = o.records ?? join(dirname(o.signature), s.records.file);
  if (!existsSync(file)) throw new ToolError('E_INPUT', `the attestation covers the records file ${s.records.file}, which is not at ${file}`, 'pass --records FILE');
  out.records = file;
  const bytes = readFileSync(file);
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha === s.records.sha256) return;
  out.problems.push(`the records file changed since it was attested: its sha256 is ${short(sha)} (${bytes.length} bytes), attested ${short(s.records.sha256)} (${s.records.bytes} bytes)`);
  try {
    const v = verifyRecords(file, o.tape);
    out.problems.push(...v.differences.slice(0, 5).map((d) => `  ${d}`));
  } catch (e) {
    if (!(e instanceof ToolError)) throw e;
    out.problems.push(`  ${e.message}`);
  }
}
