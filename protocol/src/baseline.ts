/**
 * @module baseline
 * The training-data summary a model version is registered with: per-feature histograms of the
 * data it was trained on. Drift detection compares the live feature distribution on devices
 * (the features every telemetry record carries) against this baseline, bin by bin, so the
 * edges here are also the edges live values are counted into.
 */
import { z } from 'zod';

/** Bins per histogram; enough for PSI/KS-style comparisons, small enough to store per version. */
export const MAX_HISTOGRAM_BINS = 256;

/** `counts[i]` values fell in [edges[i], edges[i+1]) (the last bin is closed on the right). */
export const histogramSchema = z
  .object({
    edges: z
      .array(z.number())
      .min(2)
      .max(MAX_HISTOGRAM_BINS + 1),
    counts: z.array(z.number().int().min(0)).min(1).max(MAX_HISTOGRAM_BINS),
  })
  .refine((h) => h.counts.length === h.edges.length - 1, {
    message: 'counts must have exactly one entry fewer than edges',
    path: ['counts'],
  })
  .refine((h) => h.edges.every((e, i) => i === 0 || e > h.edges[i - 1]!), {
    message: 'edges must be strictly increasing',
    path: ['edges'],
  });
export type Histogram = z.infer<typeof histogramSchema>;

export const trainingSummarySchema = z
  .object({
    /** Rows of training data summarised. */
    count: z.number().int().min(0),
    /** Feature name (as in telemetry `features`, e.g. "brightness") → histogram. */
    features: z
      .record(z.string().min(1).max(64), histogramSchema)
      .refine((r) => Object.keys(r).length <= 64, 'at most 64 features'),
    /** Optional histogram of the target / prediction values (prediction drift). */
    prediction: histogramSchema.optional(),
    /** Optional histogram of the reference values (labels) trained on (label shift). */
    reference: histogramSchema.optional(),
  })
  .strict();
export type TrainingSummary = z.infer<typeof trainingSummarySchema>;

/**
 * Bin edges for the image monitoring features (image-features.ts), fixed for every model: the
 * 0..1 features in 20 bins of 0.05, sharpness (0..16) in 32 bins of 0.5. Fixed edges make any
 * two summaries comparable bin by bin, and rollups of live values exact merges.
 */
export const FEATURE_EDGES: Readonly<Record<string, readonly number[]>> = (() => {
  const unit = Array.from({ length: 21 }, (_, i) => Math.round(i * 5) / 100);
  const sharpness = Array.from({ length: 33 }, (_, i) => i / 2);
  const edges: Record<string, readonly number[]> = { sharpness };
  for (const f of ['mean_r', 'mean_g', 'mean_b', 'brightness', 'saturation', 'contrast']) edges[f] = unit;
  return edges;
})();

/** Bins of an output or reference-value histogram. */
export const VALUE_BINS = 32;

/**
 * Edges for an output or a reference value seen over [min, max] in the training data: VALUE_BINS
 * equal bins over that range widened by half its span on each side (the live range may outgrow
 * the trained one, which is exactly what drift detection must still count), rounded outward to
 * whole units. A flat range (min = max) gets a span of 1.
 */
export function valueEdges(min: number, max: number, bins: number = VALUE_BINS): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max) || max < min) {
    throw new RangeError(`value range must be finite with min ≤ max, got [${min}, ${max}]`);
  }
  const span = Math.max(max - min, 1);
  const lo = Math.floor(min - span / 2);
  const hi = Math.ceil(max + span / 2);
  const step = (hi - lo) / bins;
  return Array.from({ length: bins + 1 }, (_, i) => (i === bins ? hi : lo + i * step));
}

/**
 * The bin `value` falls in. Values below the first edge count in the first bin and values above
 * the last in the last: a histogram keeps every value it is given, so counts always sum to the
 * number of values (drift that leaves the trained range piles up in the outer bins).
 */
export function binIndex(edges: readonly number[], value: number): number {
  const last = edges.length - 2;
  if (!(value >= edges[0]!)) return 0; // also NaN: never dropped, counted low
  if (value >= edges[last]!) return last;
  let lo = 0,
    hi = last;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (value >= edges[mid]!) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** A histogram of `values` on `edges` (binIndex's rule for values outside them). */
export function histogramOf(values: Iterable<number>, edges: readonly number[]): Histogram {
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (const v of values) counts[binIndex(edges, v)]!++;
  return { edges: [...edges], counts };
}
