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
  })
  .strict();
export type TrainingSummary = z.infer<typeof trainingSummarySchema>;
