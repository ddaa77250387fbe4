/**
 * @module monitoring/baseline-distance
 * How far one record's monitoring features are from the training data: the mean over features
 * of |x − μ| / σ, with μ and σ of each feature from the baseline's histogram (bin centres). For a
 * record drawn from the training distribution it averages ~0.8; a covariate shift moves it by
 * the shift in σ-units. Features the baseline lacks, or the record lacks, are skipped.
 */
import type { TrainingSummary } from '@edgeloop/protocol';

interface Moments {
  name: string;
  mean: number;
  invStd: number;
}

/**
 * σ below this share of the histogram's span counts as this (a feature constant in training
 * would otherwise make every tiny live wobble infinitely far).
 */
const MIN_STD_SHARE = 0.01;

/*
 * σ from bin centres adds the spread within the bins (Sheppard's correction, width²/12 for a
 * value spread evenly over its bin): training data in a single 0.05 bin has σ ≈ 0.014, not 0.
 */

export class BaselineDistance {
  private readonly moments: Moments[];

  constructor(baseline: TrainingSummary) {
    this.moments = [];
    for (const [name, h] of Object.entries(baseline.features)) {
      let n = 0,
        sum = 0,
        sumSq = 0,
        within = 0;
      h.counts.forEach((c, i) => {
        const lo = h.edges[i]!,
          hi = h.edges[i + 1]!;
        const centre = (lo + hi) / 2;
        n += c;
        sum += c * centre;
        sumSq += c * centre * centre;
        within += (c * (hi - lo) ** 2) / 12;
      });
      if (n === 0) continue;
      const mean = sum / n;
      const span = h.edges[h.edges.length - 1]! - h.edges[0]!;
      const variance = Math.max(0, sumSq / n - mean * mean) + within / n;
      const std = Math.max(Math.sqrt(variance), span * MIN_STD_SHARE);
      this.moments.push({ name, mean, invStd: 1 / std });
    }
  }

  /** Features the distance is computed over. */
  get features(): number {
    return this.moments.length;
  }

  /** The distance of one record's features; null when it shares no feature with the baseline. */
  of(features: Readonly<Record<string, number>>): number | null {
    let total = 0,
      used = 0;
    for (const m of this.moments) {
      const x = features[m.name];
      if (x === undefined || !Number.isFinite(x)) continue;
      total += Math.abs(x - m.mean) * m.invStd;
      used++;
    }
    return used === 0 ? null : total / used;
  }
}
