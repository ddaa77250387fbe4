/**
 * @module outbox/byte-rate
 * A lane's uplink cap (`sync.maxBytesPerSecond`): a token bucket that starts full, so one second's
 * worth may go at once. A single batch larger than a second's worth goes alone.
 */
export class ByteRate {
  private tokens = Number.POSITIVE_INFINITY;
  private tokensAt = 0;

  /** `rate` bytes per second; 0 = unlimited. */
  constructor(private readonly rate: number) {}

  /** Waits until the cap allows `bytes` more, then spends them. */
  async take(bytes: number): Promise<void> {
    const rate = this.rate;
    if (rate <= 0) return;
    const need = Math.min(bytes, rate);
    // Timers may fire a little early and clocks tick in whole milliseconds, so the wait is
    // rounded up and the bucket refilled from the clock again until it really holds enough.
    for (;;) {
      const now = performance.now();
      this.tokens = Math.min(rate, this.tokens + ((now - this.tokensAt) / 1000) * rate);
      this.tokensAt = now;
      if (this.tokens >= need) break;
      await new Promise((r) => setTimeout(r, Math.ceil(((need - this.tokens) / rate) * 1000)));
    }
    this.tokens -= bytes;
  }
}
