const NL = 0x0a;

/**
 * Splits a byte stream into lines (without their `\n`), keeping each line's bytes exact.
 * Empty lines are skipped unless `keepEmpty`: a runtime or client ignores them, a recording
 * or a replay must keep them to stay byte-exact.
 */
export class LineSplitter {
  private carry: Buffer[] = [];
  constructor(
    private readonly onLine: (line: Buffer) => void,
    public keepEmpty = false,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    let nl = chunk.indexOf(NL, start);
    while (nl >= 0) {
      const piece = chunk.subarray(start, nl);
      const line = this.carry.length ? Buffer.concat([...this.carry, piece]) : Buffer.from(piece);
      this.carry = [];
      if (line.length > 0 || this.keepEmpty) this.onLine(line);
      start = nl + 1;
      nl = chunk.indexOf(NL, start);
    }
    if (start < chunk.length) this.carry.push(chunk.subarray(start));
  }

  /** The unterminated tail, if any, as a last line. */
  end(): void {
    if (!this.carry.length) return;
    const line = Buffer.concat(this.carry);
    this.carry = [];
    if (line.length) this.onLine(line);
  }
}
