/** A set of frame seqs, one bit each: a million-frame replay remembers what it played in 125 KB. */
export class SeqSet {
  private bits = new Uint8Array(1024);
  size = 0;

  add(seq: number): void {
    const i = seq >> 3;
    if (i >= this.bits.length) {
      const grown = new Uint8Array(Math.max(this.bits.length * 2, i + 1));
      grown.set(this.bits);
      this.bits = grown;
    }
    const m = 1 << (seq & 7);
    if (!(this.bits[i] & m)) this.size++;
    this.bits[i] |= m;
  }

  has(seq: number): boolean {
    const i = seq >> 3;
    return i < this.bits.length && (this.bits[i] & (1 << (seq & 7))) !== 0;
  }
}
