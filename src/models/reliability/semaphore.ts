/** A FIFO counting semaphore: at most `limit` holders at once; waiters are served in arrival order. */
export class Semaphore {
  private active = 0;
  private readonly waiters: (() => void)[] = [];
  private head = 0;
  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new Error(`concurrency limit must be an integer >= 1, got ${limit}`);
  }
  get inUse(): number {
    return this.active;
  }
  get waiting(): number {
    return this.waiters.length - this.head;
  }
  acquire(): Promise<void> | undefined {
    if (this.active < this.limit && this.waiting === 0) {
      this.active++;
      return undefined;
    }
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }
  release(): void {
    if (this.head < this.waiters.length) {
      const next = this.waiters[this.head++];
      if (this.head > 1024 && this.head * 2 > this.waiters.length) {
        this.waiters.splice(0, this.head);
        this.head = 0;
      }
      next(); // the slot passes directly to the next waiter
      return;
    }
    this.active--;
  }
  /** Runs fn holding one slot. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.acquire();
    if (p) await p;
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}
