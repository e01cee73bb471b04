import { createHash, hash, type Hash } from 'node:crypto';

/**
 * The tape fingerprint: one sha256 running over the frame log, a line per frame
 * (`channel dir kind blobhash`). Times and file layout are left out, so copying or
 * vacuuming a tape keeps it, and a clean replay reproduces it.
 */
export class Fingerprint {
  private readonly h: Hash = createHash('sha256');
  /** Lines not yet hashed: one update per few dozen frames costs less than one per frame (the digest is the same). */
  private lines = '';
  count = 0;
  add(channel: number, dir: string, kind: string, hash: string): void {
    this.lines += `${channel} ${dir} ${kind} ${hash}\n`;
    if (this.lines.length >= 8192) this.flush();
    this.count++;
  }
  digest(): string {
    this.flush();
    return 'fp1:' + this.h.copy().digest('hex');
  }
  private flush(): void {
    this.h.update(this.lines);
    this.lines = '';
  }
}

/** One-shot hashing: about twice as fast as createHash() for frame-sized inputs. */
export const sha256hex = (data: Buffer | string): string => hash('sha256', data, 'hex');
