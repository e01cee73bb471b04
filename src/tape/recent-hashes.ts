import { sha256hex } from './fingerprint.js';

/**
 * The last bytes hashed per frame kind, within one batch. An agent's traffic repeats itself
 * byte for byte (request heads, response heads within a second, `transport.close`, pings,
 * identical completions), and comparing with the last frame of the same kind costs a memcmp
 * where a sha256 costs a pass over the bytes and a new string.
 *
 * The bytes are views into the batch being written, never copies: `clear()` at the end of
 * each batch lets the batch's buffer go.
 */
export class RecentHashes {
  private bytes: (Buffer | undefined)[] = [];
  private hashes: string[] = [];

  sha256(kindCode: number, data: Buffer): string {
    const last = this.bytes[kindCode];
    if (last !== undefined && last.length === data.length && last.equals(data)) return this.hashes[kindCode];
    const hash = sha256hex(data);
    this.bytes[kindCode] = data;
    this.hashes[kindCode] = hash;
    return hash;
  }

  clear(): void {
    this.bytes = [];
  }
}
