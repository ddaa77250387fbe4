/**
 * @module demo/frame-meter
 * The cars' own view of the live error: each answered frame's |prediction − sensor reading|,
 * summed into buckets of simulated time. It drives the progress lines (the fleet's rollups are
 * minute windows, too coarse to watch a phase change) and the fine line of the report's plot.
 */
import type { FrameBucket } from './demo-result.js';

interface Bucket {
  sum: number;
  n: number;
  versions: Map<number, number>;
}

export class FrameMeter {
  private readonly buckets = new Map<number, Bucket>();

  constructor(
    readonly bucketSeconds: number,
    private readonly fps: number,
  ) {}

  /** One answered frame: k-th of its car, the prediction and the reading it is judged against. */
  add(k: number, prediction: number | undefined, reading: number, version: number | undefined): void {
    if (prediction === undefined || !Number.isFinite(prediction)) return;
    const key = Math.floor(k / this.fps / this.bucketSeconds);
    let b = this.buckets.get(key);
    if (!b) this.buckets.set(key, (b = { sum: 0, n: 0, versions: new Map() }));
    b.sum += Math.abs(prediction - reading);
    b.n++;
    if (version !== undefined) b.versions.set(version, (b.versions.get(version) ?? 0) + 1);
  }

  /** MAE of the frames in [fromS, toS) of simulated time (whole buckets), or null without frames. */
  mae(fromS: number, toS: number): { mae: number | null; n: number } {
    let sum = 0;
    let n = 0;
    for (const [key, b] of this.buckets) {
      const t = key * this.bucketSeconds;
      if (t >= fromS && t < toS) {
        sum += b.sum;
        n += b.n;
      }
    }
    return { mae: n > 0 ? sum / n : null, n };
  }

  toBuckets(): FrameBucket[] {
    return [...this.buckets.entries()]
      .sort(([a], [b]) => a - b)
      .map(([key, b]) => ({
        t: key * this.bucketSeconds,
        mae: b.sum / b.n,
        n: b.n,
        version: [...b.versions.entries()].sort((x, y) => y[1] - x[1])[0]?.[0] ?? null,
      }));
  }
}
