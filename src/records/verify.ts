import { readFileSync } from 'node:fs';
import { ToolError } from '../errors.js';
import { verifyTape } from '../tape/verify.js';
import { deriveRecords } from './derive.js';
import { jsonDifferences } from './json-value.js';
import { RECORDS_SCHEMA, RecordsDocument } from './schema.js';

export interface LoadedRecords {
  path: string;
  /** The file's exact bytes (what an attestation's records hash covers). */
  bytes: Buffer;
  json: Record<string, unknown>;
  doc?: RecordsDocument;
  /** Where the file breaks the records schema. */
  issues: string[];
}

/** Where JSON.parse gave up, on one line and without echoing the file (its message quotes the text). */
const notJsonWhy = (e: Error, length: number): string => {
  const at = /position (\d+)/.exec(e.message);
  const token = /^Unexpected token ('.{1,4}')/u.exec(e.message);
  return e.message.includes('Unexpected end') || Number(at?.[1]) >= length ? 'it ends too soon' : at ? `it breaks at byte ${at[1]}` : token ? `an unexpected ${token[1]}` : 'it does not parse';
};

const MAKE_HINT = 'make one with `arcp tape records TAPE --json > FILE`';

/** Reads a records file: a file that is not a records document at all is an input error; one that breaks the schema is read with its issues. */
export function loadRecords(path: string): LoadedRecords {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ToolError('E_INPUT', code === 'ENOENT' ? `no records file at ${path}` : `cannot read ${path}: ${code ?? (e as Error).message}`, MAKE_HINT);
  }
  if (bytes.subarray(0, 16).toString('latin1') === 'SQLite format 3\0') throw new ToolError('E_INPUT', `${path} is a tape, not a records file`, 'the records file comes first: `arcp tape records --verify RECORDS TAPE`');
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new ToolError('E_INPUT', `${path} is not JSON (${notJsonWhy(e as Error, bytes.length)}), so not an arcp records file`, MAKE_HINT);
  }
  const o = json && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
  if (!o || o.schema !== RECORDS_SCHEMA) throw new ToolError('E_INPUT', `${path} is not an arcp records file (no "schema": "${RECORDS_SCHEMA}")`, MAKE_HINT);
  const parsed = RecordsDocument.safeParse(o);
  if (parsed.success) return { path, bytes, json: o, doc: o as RecordsDocument, issues: [] };
  const records = Array.isArray(o.records) ? o.records : [];
  const issues = parsed.error.issues.slice(0, 20).map((i) => {
    const r = i.path[0] === 'records' && typeof i.path[1] === 'number' ? (records[i.path[1]] as { event?: { id?: unknown } } | undefined) : undefined;
    const id = typeof r?.event?.id === 'string' ? `record ${r.event.id}: ` : '';
    return `${id}${i.path.slice(id ? 2 : 0).join('.') || '(the document)'} breaks the records schema: ${i.message}`;
  });
  return { path, bytes, json: o, issues };
}

export interface RecordsVerification {
  file: string;
  tape: string;
  ok: boolean;
  /** Records in the file. */
  records: number;
  /** The tape's fingerprint as re-derived (absent when the tape could not be read as recorded). */
  fingerprint?: string;
  differences: string[];
}

const shown = (v: unknown): string => {
  if (v === undefined) return 'absent';
  const s = JSON.stringify(v);
  return s.length > 80 ? s.slice(0, 79) + '…' : s;
};

/**
 * Checks a records file against a tape by deriving the records again and comparing them
 * exactly: every difference is named (which record, which field, both values). A tape whose
 * bytes do not match their hashes, or whose frames do not match its seal, is a difference too.
 */
export function verifyRecords(file: string, tape: string): RecordsVerification {
  const loaded = loadRecords(file);
  const json = loaded.json;
  const fileRecords = Array.isArray(json.records) ? (json.records as Record<string, unknown>[]) : [];
  const out: RecordsVerification = { file, tape, ok: false, records: fileRecords.length, differences: [...loaded.issues] };
  let derived: RecordsDocument;
  try {
    derived = deriveRecords(tape, { job: typeof json.job === 'string' ? json.job : undefined });
  } catch (e) {
    if (!(e instanceof ToolError) || (e.code !== 'E_TAPE_CORRUPT' && e.code !== 'E_USAGE')) throw e;
    out.differences.push(`the tape: ${e.message}`);
    // Say what broke it (a hole in the frame log, a frame count, a blob), as `arcp tape verify` would.
    if (e.code === 'E_TAPE_CORRUPT') {
      try {
        for (const p of verifyTape(tape).problems) if (!p.startsWith('fingerprint is ') && !e.message.includes(p)) out.differences.push(`the tape: ${p}`);
      } catch {
        // a tape too broken to open was named above
      }
    }
    return out;
  }
  out.fingerprint = derived.tape.fingerprint;
  for (const d of jsonDifferences(derived.tape, json.tape)) out.differences.push(`the tape's ${d.pointer.slice(1) || 'description'} is ${shown(d.actual)} in the records, ${shown(d.expected)} from the tape`);
  // Records are paired by what they are (kind and key), not by the tape's fingerprint in their
  // id: a tape that changed is named once above, and each record's own difference below.
  const fileFp = String((json.tape as { fingerprint?: unknown } | undefined)?.fingerprint ?? '');
  const idOf = (r: unknown) => String((r as { event?: { id?: unknown } })?.event?.id ?? '?');
  const keyOf = (id: string) => id.slice(id.indexOf(':') + 1);
  const inFile = new Map(fileRecords.map((r) => [keyOf(idOf(r)), r]));
  const fromTape = new Map(derived.records.map((r) => [keyOf(r.event.id), r]));
  // Records of another tape altogether share no record with this one: one line says so, instead
  // of every record of both named as missing.
  if (fileFp !== derived.tape.fingerprint && inFile.size > 0 && fromTape.size > 0 && ![...inFile.keys()].some((k) => fromTape.has(k))) {
    out.differences = [...loaded.issues, `${file} holds the records of another tape (${shown(fileFp)}, ${inFile.size} records), not of ${tape} (${derived.tape.fingerprint}, ${fromTape.size} records): no record of either is one of the other's`];
    return out;
  }
  for (const r of fileRecords) {
    const id = idOf(r);
    const cites = (r as { evidence?: { tape?: unknown } }).evidence?.tape;
    if (cites !== fileFp || !fileFp.startsWith(`fp1:${id.split(':')[0]}`)) out.differences.push(`record ${id} names another tape than the records do (${shown(cites)}, the records ${shown(fileFp)})`);
  }
  const comparable = (r: unknown) => {
    const x = r as { event?: Record<string, unknown>; evidence?: Record<string, unknown> };
    return { ...x, event: { ...x.event, id: keyOf(idOf(r)) }, evidence: { ...x.evidence, tape: undefined } };
  };
  for (const [key, r] of fromTape) {
    const f = inFile.get(key);
    if (!f) {
      out.differences.push(`record ${r.event.id} (${r.kind} ${r.event.action}) is missing from the records`);
      continue;
    }
    for (const d of jsonDifferences(comparable(r), comparable(f))) out.differences.push(`record ${idOf(f)}: ${d.pointer} is ${shown(d.actual)} in the records, ${shown(d.expected)} from the tape`);
  }
  for (const [key, f] of inFile) if (!fromTape.has(key)) out.differences.push(`record ${idOf(f)} is in the records but the tape gives no such record`);
  if (!out.differences.length) {
    const order = fileRecords.map(idOf);
    if (order.some((id, i) => id !== derived.records[i].event.id)) out.differences.push('the records are in a different order than the tape gives them');
  }
  out.differences = out.differences.slice(0, 50);
  out.ok = out.differences.length === 0;
  return out;
}
