/**
 * @module console/pages/models/baseline-stats
 * A version's drift baseline (the training-data histograms) summarised for reading: rows, mean,
 * spread and range per feature, estimated from the bins (bin midpoints), and the bins as shares
 * for a histogram chart. Two baselines are comparable bin by bin only when their edges agree.
 */
import type { Histogram, TrainingSummary } from '@edgeloop/protocol';

export interface HistogramStats {
  count: number;
  mean: number | null;
  std: number | null;
  min: number;
  max: number;
  bins: number;
}

export function histogramStats(h: Histogram): HistogramStats {
  const count = h.counts.reduce((a, b) => a + b, 0);
  const mids = h.counts.map((_, i) => (h.edges[i]! + h.edges[i + 1]!) / 2);
  const mean = count ? h.counts.reduce((s, c, i) => s + c * mids[i]!, 0) / count : null;
  const variance =
    count && mean !== null ? h.counts.reduce((s, c, i) => s + c * (mids[i]! - mean) ** 2, 0) / count : null;
  return {
    count,
    mean,
    std: variance === null ? null : Math.sqrt(variance),
    min: h.edges[0]!,
    max: h.edges[h.edges.length - 1]!,
    bins: h.counts.length,
  };
}

/** Every histogram of a summary by name: its features, then "output" and "reference value" when present. */
export function summaryHistograms(summary: TrainingSummary | null): Map<string, Histogram> {
  const out = new Map<string, Histogram>();
  if (!summary) return out;
  for (const [name, h] of Object.entries(summary.features).sort(([a], [b]) => a.localeCompare(b))) out.set(name, h);
  if (summary.prediction) out.set('output', summary.prediction);
  if (summary.reference) out.set('reference value', summary.reference);
  return out;
}

export function shares(h: Histogram): number[] {
  const total = h.counts.reduce((a, b) => a + b, 0);
  return h.counts.map((c) => (total ? c / total : 0));
}

export function sameEdges(a: Histogram, b: Histogram): boolean {
  return a.edges.length === b.edges.length && a.edges.every((e, i) => Math.abs(e - b.edges[i]!) < 1e-9);
}
