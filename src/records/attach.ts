import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { ToolError } from '../errors.js';
import { deriveRecords } from './derive.js';
import type { RecordKind, RecordsDocument } from './schema.js';

/** A records document as a file: pretty JSON, one trailing newline. */
export const recordsText = (doc: RecordsDocument): string => JSON.stringify(doc, null, 2) + '\n';

/** Writes a records document; an existing file is replaced only with `force`. */
export function writeRecords(doc: RecordsDocument, path: string, force = false): { path: string; sha256: string; bytes: number } {
  if (!force && existsSync(path)) throw new ToolError('E_USAGE', `${path} exists`, 'pass --force to replace it, or name another file');
  const text = recordsText(doc);
  try {
    writeFileSync(path, text);
  } catch (e) {
    throw new ToolError('E_IO', `cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'check the folder exists and is writable');
  }
  return { path, sha256: createHash('sha256').update(text).digest('hex'), bytes: Buffer.byteLength(text) };
}

export interface AttachedRecords {
  /** The records file beside the tape. */
  path: string;
  sha256: string;
  records: number;
  byKind: Partial<Record<RecordKind, number>>;
  /** Records whose status is `error` (a failed job, a refused tool call, an LLM error…). */
  errors: number;
  fingerprint: string;
  document: RecordsDocument;
}

/**
 * For `arcp conform` (and anything else that keeps tapes as evidence): derives the records of
 * one check's tape and writes them beside it (`<tape>.records.json` unless `out` is given),
 * replacing an older file, so a report can link a check to what its agent did and the proof.
 */
export function attachRecords(tape: string, out = tape.replace(/\.tape$/, '') + '.records.json'): AttachedRecords {
  const document = deriveRecords(tape);
  const w = writeRecords(document, out, true);
  const byKind: Partial<Record<RecordKind, number>> = {};
  for (const r of document.records) byKind[r.kind] = (byKind[r.kind] ?? 0) + 1;
  return { path: w.path, sha256: w.sha256, records: document.records.length, byKind, errors: document.records.filter((r) => r.event.status === 'error').length, fingerprint: document.tape.fingerprint, document };
}
