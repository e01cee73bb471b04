import { BODY_MODES, type BodyMode } from './frame-check.js';

/**
 * What the writer knows about the blobs it has stored, by sha256: the blob id and, for bytes
 * stored exactly as they arrived, how a frame of them was checked (kind, flags, and the body
 * mode a head set or a body row was read in). A frame repeating such bytes as the same kind
 * (an HTTP head, a ping, an identical response) is neither parsed nor searched again. One packed number per blob keeps the map small:
 * no index is built while recording, so this map is the dedupe.
 */
export class BlobIndex {
  private readonly entries = new Map<string, number>();
  private nextId = 1;

  get size(): number {
    return this.nextId - 1;
  }

  /** The check result for these raw bytes as this kind, when they were stored unchanged. */
  checked(hash: string, kindCode: number): { blob: number; flags: number; mode: BodyMode } | undefined {
    const e = this.entries.get(hash);
    if (e === undefined || (e & CLEAN) === 0 || ((e >> KIND_SHIFT) & 15) !== kindCode) return undefined;
    return { blob: Math.floor(e / BLOB_UNIT), flags: e & FLAG_MASK, mode: BODY_MODES[(e >> MODE_SHIFT) & 7] };
  }

  /**
   * The blob id for stored bytes, and whether it is new (the caller inserts it). `clean` says
   * the bytes are the frame as it arrived, so its check result may be reused.
   */
  put(hash: string, clean: boolean, kindCode: number, flags: number, mode: BodyMode = 'opaque'): { blob: number; added: boolean } {
    const e = this.entries.get(hash);
    const added = e === undefined;
    const blob = added ? this.nextId++ : Math.floor(e / BLOB_UNIT);
    if (added || (clean && (e & CLEAN) === 0)) {
      this.entries.set(hash, blob * BLOB_UNIT + (clean ? CLEAN : 0) + (kindCode << KIND_SHIFT) + (BODY_MODES.indexOf(mode) << MODE_SHIFT) + (flags & FLAG_MASK));
    }
    return { blob, added };
  }

  /** Takes back the blobs a refused transaction added (`hashes`), so ids continue from `size`. */
  forget(hashes: string[], size: number): void {
    for (const h of hashes) this.entries.delete(h);
    this.nextId = size + 1;
  }
}

// Low bits of an entry: flags (7), body mode (3), kind (4), clean (1); the blob id above them,
// as a multiple of BLOB_UNIT. Bit operators see only the low 32 bits of a larger entry, which
// still hold the low fields exactly, because BLOB_UNIT divides 2^32.
const FLAG_MASK = 127;
const MODE_SHIFT = 7;
const KIND_SHIFT = 10;
const CLEAN = 1 << 14;
const BLOB_UNIT = 1 << 15;
