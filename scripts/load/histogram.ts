/**
 * @module load/histogram
 * Latency histogram that worker processes fill and the orchestrator merges: 1 ms buckets below
 * 1 s, 100 ms buckets up to 60 s, one overflow bucket. Fixed buckets make merging a sum and keep
 * what crosses the IPC channel small (only non-empty buckets travel).
 */
const FINE = 1000;
const COARSE_STEP = 100;
const BUCKETS = FINE + (60_000 - FINE) / COARSE_STEP + 1;

export type SparseCounts = Array<[bucket: number, count: number]>;

export class Histogram {
  readonly counts = new Float64Array(BUCKETS);
  total = 0;

  add(ms: number): void {
    const v = Math.max(0, ms);
    const b = v < FINE ? Math.floor(v) : Math.min(BUCKETS - 1, FINE + Math.floor((v - FINE) / COARSE_STEP));
    this.counts[b]!++;
    this.total++;
  }

  merge(sparse: SparseCounts): void {
    for (const [b, n] of sparse) {
      this.counts[b]! += n;
      this.total += n;
    }
  }

  mergeHistogram(other: Histogram): void {
    for (let b = 0; b < BUCKETS; b++) this.counts[b]! += other.counts[b]!;
    this.total += other.total;
  }

  /** Non-empty buckets, then empties this histogram (a worker sends deltas). */
  drain(): SparseCounts {
    const out: SparseCounts = [];
    for (let b = 0; b < BUCKETS; b++)
      if (this.counts[b]! > 0) {
        out.push([b, this.counts[b]!]);
        this.counts[b] = 0;
      }
    this.total = 0;
    return out;
  }

  /** Upper edge of the bucket holding the p-th percentile, in ms; null when empty. */
  percentile(p: number): number | null {
    if (this.total === 0) return null;
    const rank = Math.ceil((p / 100) * this.total);
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.counts[b]!;
      if (seen >= rank && this.counts[b]! > 0) return b < FINE ? b + 1 : FINE + (b - FINE + 1) * COARSE_STEP;
    }
    return null;
  }
}
