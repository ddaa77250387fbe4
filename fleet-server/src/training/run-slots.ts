/**
 * @module training/run-slots
 * How many trainers run at once on this server, across all jobs: each job's `parallel` bounds
 * its own runs, and these slots bound the sum, so two sweeps started together queue instead of
 * overcommitting the machine. Waiting is first come, first served, and a cancel leaves the queue.
 */
export class RunSlots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly size: number) {
    this.free = Math.max(1, size);
  }

  /** true once a slot is held (call release), false when the signal aborted first. */
  acquire(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    if (this.free > 0) {
      this.free--;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const grant = () => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(grant);
        if (i >= 0) this.waiting.splice(i, 1);
        resolve(false);
      };
      this.waiting.push(grant);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }

  get inUse(): number {
    return this.size - this.free;
  }
}
