// One Bulk result page downloading ahead of its turn (parallel results,
// docs/salesforce.md#bulk-api-20-parallel-results): its body chunks are queued until the ordered reader reaches the
// page, and the download pauses (stops pulling from the socket, so TCP holds the rest) once `maxBytes` are queued. The
// page being read is drained as it arrives, so no page waits on another: the buffers stay bounded without a deadlock.

export class PageDownload {
  private readonly queue: Buffer[] = [];
  private head = 0;
  private queued = 0;
  private done = false;
  private failure: { err: unknown } | undefined;
  private stopped = false;
  private wakeReader: (() => void) | undefined;
  private wakePump: (() => void) | undefined;

  constructor(
    source: AsyncGenerator<Buffer>,
    private readonly maxBytes: number,
  ) {
    void this.pump(source);
  }

  /** Bytes waiting for the reader. */
  get buffered(): number {
    return this.queued;
  }

  private async pump(source: AsyncGenerator<Buffer>): Promise<void> {
    try {
      for await (const chunk of source) {
        this.queue.push(chunk);
        this.queued += chunk.length;
        this.wake();
        while (this.queued >= this.maxBytes && !this.stopped) await new Promise<void>((r) => (this.wakePump = r));
        // Leaving the loop returns the source: its response is destroyed (bulkCsvStream readPage).
        if (this.stopped) break;
      }
    } catch (err) {
      // Kept for the reader: a page's failure surfaces in page order, as in the sequential loop.
      this.failure = { err };
    } finally {
      this.done = true;
      this.wake();
    }
  }

  private wake(): void {
    const r = this.wakeReader;
    this.wakeReader = undefined;
    r?.();
  }

  /** The page's chunks in order; throws the page's error after the bytes that preceded it. */
  async *chunks(): AsyncGenerator<Buffer> {
    for (;;) {
      if (this.head < this.queue.length) {
        const chunk = this.queue[this.head] as Buffer;
        this.queue[this.head++] = EMPTY;
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          this.queue.splice(0, this.head);
          this.head = 0;
        }
        this.queued -= chunk.length;
        const r = this.wakePump;
        this.wakePump = undefined;
        r?.();
        yield chunk;
        continue;
      }
      if (this.done) {
        if (this.failure) throw this.failure.err;
        return;
      }
      await new Promise<void>((r) => (this.wakeReader = r));
    }
  }

  /** Stops pulling (the caller destroys open responses); queued bytes are dropped. */
  cancel(): void {
    this.stopped = true;
    this.queue.length = 0;
    this.head = 0;
    this.queued = 0;
    const r = this.wakePump;
    this.wakePump = undefined;
    r?.();
  }
}

const EMPTY = Buffer.alloc(0);
