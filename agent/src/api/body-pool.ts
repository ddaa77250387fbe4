/**
 * @module api/body-pool
 * Reusable buffers for request bodies. A camera frame per request would otherwise be a fresh
 * 0.1-1 MB allocation outside the JS heap; at tens of frames a second that churn keeps V8
 * starting mark-compacts every fraction of a second once the heap is the agent's size (measured
 * with a 1280x720 JPEG: the same server with and without reuse, ~2 ms of CPU per request apart).
 *
 * A body taken from the pool must not outlive its request: whoever keeps the bytes longer
 * (input sampling waiting for a reference value) copies them.
 */

/** Buffers above this are never kept: one oversized upload must not stay resident. */
const MAX_POOLED_BYTES = 8 * 1024 * 1024;
const MIN_BUFFER_BYTES = 64 * 1024;

export class BodyPool {
  private readonly idle: Buffer[] = [];

  /** `maxIdle`: buffers kept between requests (a device rarely has more requests in flight). */
  constructor(private readonly maxIdle = 2) {}

  /** A buffer of at least `bytes` (its contents are garbage; use `subarray(0, bytes)`). */
  acquire(bytes: number): Buffer {
    let best = -1;
    for (let i = 0; i < this.idle.length; i++) {
      const cap = this.idle[i]!.length;
      if (cap >= bytes && (best < 0 || cap < this.idle[best]!.length)) best = i;
    }
    if (best >= 0) return this.idle.splice(best, 1)[0]!;
    // Powers of two, so a stream of similar frames lands on one size class.
    let size = MIN_BUFFER_BYTES;
    while (size < bytes) size *= 2;
    return Buffer.allocUnsafeSlow(size);
  }

  release(buffer: Buffer): void {
    if (buffer.length > MAX_POOLED_BYTES) return;
    if (this.idle.length < this.maxIdle) {
      this.idle.push(buffer);
      return;
    }
    // Full: keep the larger buffers, which serve every smaller request too.
    let smallest = 0;
    for (let i = 1; i < this.idle.length; i++) if (this.idle[i]!.length < this.idle[smallest]!.length) smallest = i;
    if (this.idle[smallest]!.length < buffer.length) this.idle[smallest] = buffer;
  }

  /** Bytes held between requests (for tests and metrics). */
  idleBytes(): number {
    return this.idle.reduce((sum, b) => sum + b.length, 0);
  }
}
