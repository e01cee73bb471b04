/** A source counts as held once it has waited this long for 'drain' with nothing moving. */
export const STILL_MS = 300;

/** A writer of up to `limit` bytes in `chunk`s that counts them and notes when it is waiting for 'drain'. */
export class Pusher {
  written = 0;
  done = false;
  private stopAsked = false;
  private movedAt = performance.now();
  private waiting = false;

  constructor(
    private readonly chunk: Buffer,
    private readonly limit: number,
  ) {}

  async push(out: NodeJS.WritableStream): Promise<void> {
    while (this.written < this.limit && !this.stopAsked) {
      this.written += this.chunk.length;
      this.movedAt = performance.now();
      if (!out.write(this.chunk)) {
        this.waiting = true;
        await new Promise((r) => out.once('drain', r));
        this.waiting = false;
      }
    }
    this.done = true;
    out.end();
  }

  /** Waiting for 'drain', and nothing written for STILL_MS. */
  get held(): boolean {
    return this.waiting && performance.now() - this.movedAt > STILL_MS;
  }

  /** Ends the stream after what is written so far. */
  stop(): void {
    this.stopAsked = true;
  }
}
