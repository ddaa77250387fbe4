/**
 * @module monitoring/metrics
 * Drift and live-error metrics on rollups: the comparisons of two histograms counted on the same
 * edges (PSI, Jensen–Shannon distance, normalised Wasserstein, KS, chi-square), and the
 * regression and classification error summaries of one rollup. Server rules, the agent's device
 * rules and the console all call these, so there is one definition of each number.
 *
 * The histogram comparisons take dense bin counts (denseCounts) and return null when either
 * side counted nothing: no distribution, no distance. They allocate nothing beyond their result,
 * because the agent evaluates them beside its predictions.
 *
 * Binned values: a histogram knows only which bin a value fell in, so the distance-like metrics
 * (Wasserstein, KS, the reference std) treat every value as its bin's centre (binCentre). That is
 * what the tests compare with scipy, fed the bin centres weighted by the counts.
 */
import type { Histogram } from '../baseline.js';
import { denseCounts, type BinSpec, type Rollup, type ValueStats } from './rollup.js';
import { chiSquareSurvival, kolmogorovSurvival } from './special-functions.js';

/** Counts of one histogram, dense, one per bin (what denseCounts returns). */
export type BinCounts = ArrayLike<number>;

/**
 * The proportion an empty bin counts as in PSI, as Evidently does (it replaces a bin's zero
 * proportion by 0.0001): without it one empty bin makes the index infinite, and a larger value
 * would swamp the genuine small bins.
 */
export const PSI_EMPTY_BIN_PROPORTION = 1e-4;

function totalOf(counts: BinCounts, side: string): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (!(c >= 0) || c === Infinity) {
      throw new RangeError(`${side} bin ${i} has count ${c}; bin counts must be finite and ≥ 0`);
    }
    total += c;
  }
  return total;
}

/** Totals of both sides, or null when either is empty; throws when the bins do not line up. */
function totals(reference: BinCounts, live: BinCounts): [number, number] | null {
  if (reference.length !== live.length || reference.length === 0) {
    throw new RangeError(
      `reference has ${reference.length} bins and live ${live.length}; count both on the same edges (denseCounts with the spec's edges)`,
    );
  }
  const r = totalOf(reference, 'reference');
  const l = totalOf(live, 'live');
  return r > 0 && l > 0 ? [r, l] : null;
}

/** Population stability index Σ (q − p)·ln(q / p) over bin proportions (empty bins: PSI_EMPTY_BIN_PROPORTION). */
export function psi(reference: BinCounts, live: BinCounts): number | null {
  const t = totals(reference, live);
  if (!t) return null;
  let sum = 0;
  for (let i = 0; i < reference.length; i++) {
    const p = reference[i]! / t[0] || PSI_EMPTY_BIN_PROPORTION;
    const q = live[i]! / t[1] || PSI_EMPTY_BIN_PROPORTION;
    sum += (q - p) * Math.log(q / p);
  }
  return sum;
}

/**
 * Jensen–Shannon distance (the square root of the divergence) in base 2, so it lies in [0, 1]:
 * 0 for equal proportions, 1 for histograms with no bin in common. As scipy's
 * `jensenshannon(p, q, base=2)`.
 */
export function jsDistance(reference: BinCounts, live: BinCounts): number | null {
  const t = totals(reference, live);
  if (!t) return null;
  let sum = 0;
  for (let i = 0; i < reference.length; i++) {
    const p = reference[i]! / t[0];
    const q = live[i]! / t[1];
    const m = (p + q) / 2;
    if (p > 0) sum += p * Math.log(p / m);
    if (q > 0) sum += q * Math.log(q / m);
  }
  // Rounding can leave the divergence a hair outside [0, 1].
  return Math.sqrt(Math.min(1, Math.max(0, sum / (2 * Math.LN2))));
}

/**
 * The value bin `i` stands for: the midpoint of its edges. Outer bins also hold the values
 * beyond the edges (binIndex), which are clamped to that midpoint: the histogram does not know
 * how far out they were. An infinite outer edge is replaced by the inner edge ∓ half the
 * neighbouring bin's width, so the centre stays finite.
 */
export function binCentre(edges: readonly number[], i: number): number {
  let lo = edges[i]!;
  let hi = edges[i + 1]!;
  if (!Number.isFinite(lo)) lo = hi - ((edges[i + 2] ?? hi + 1) - hi) / 2;
  if (!Number.isFinite(hi)) hi = lo + (lo - (edges[i - 1] ?? lo - 1)) / 2;
  return (lo + hi) / 2;
}

function checkEdges(counts: BinCounts, edges: readonly number[]): void {
  if (edges.length !== counts.length + 1) {
    throw new RangeError(`${counts.length} bins need ${counts.length + 1} edges, got ${edges.length}`);
  }
}

/**
 * Wasserstein-1 (earth mover's) distance between two binned distributions, values at their bin
 * centres: Σ |F_ref − F_live| × the gap to the next centre. As scipy's
 * `wasserstein_distance(centres, centres, refCounts, liveCounts)`.
 */
export function wasserstein(reference: BinCounts, live: BinCounts, edges: readonly number[]): number | null {
  const t = totals(reference, live);
  if (!t) return null;
  checkEdges(reference, edges);
  let cdfRef = 0,
    cdfLive = 0,
    sum = 0;
  let centre = binCentre(edges, 0);
  for (let i = 0; i < reference.length - 1; i++) {
    cdfRef += reference[i]! / t[0];
    cdfLive += live[i]! / t[1];
    const next = binCentre(edges, i + 1);
    sum += Math.abs(cdfRef - cdfLive) * (next - centre);
    centre = next;
  }
  return sum;
}

/**
 * Standard deviation of a binned distribution, values at their bin centres (population, ddof 0).
 * When everything sits in one bin that is 0, and any shift would be an infinite number of stds;
 * then the spread of a value uniform within that bin (width / √12) stands in for it.
 */
export function binnedStd(counts: BinCounts, edges: readonly number[]): number | null {
  checkEdges(counts, edges);
  const total = totalOf(counts, 'reference');
  if (total === 0) return null;
  let mean = 0;
  for (let i = 0; i < counts.length; i++) mean += (counts[i]! / total) * binCentre(edges, i);
  let variance = 0,
    widthOfOccupied = 0;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] === 0) continue;
    const d = binCentre(edges, i) - mean;
    variance += (counts[i]! / total) * d * d;
    widthOfOccupied = edges[i + 1]! - edges[i]!;
  }
  const std = Math.sqrt(variance);
  return std > 0 ? std : widthOfOccupied / Math.sqrt(12);
}

/**
 * Wasserstein-1 divided by the reference's std (binnedStd): the shift in units of the reference's
 * own spread, comparable across features of any scale (Evidently's "Wasserstein normed").
 */
export function wassersteinNormalized(reference: BinCounts, live: BinCounts, edges: readonly number[]): number | null {
  const w = wasserstein(reference, live, edges);
  if (w === null) return null;
  return w / binnedStd(reference, edges)!;
}

export interface KsResult {
  /** The largest gap between the two empirical CDFs, over bin boundaries. */
  statistic: number;
  /** Two-sided p-value, asymptotic (see ks). */
  pValue: number;
  /** Values on each side. */
  n: number;
  m: number;
}

/**
 * Two-sample Kolmogorov–Smirnov test on the binned CDFs. The p-value is the asymptotic
 * Kolmogorov distribution's at λ = (√e + 0.12 + 0.11/√e)·D with e = nm/(n+m) (Stephens'
 * small-sample correction, as Numerical Recipes' kstwo): within a few per cent of scipy's
 * `ks_2samp(method='asymp')` (which uses the exact one-sample distribution for round(e)) at the
 * sizes where a p-value is used for a verdict at all (drift-defaults.ts), and it costs no tables.
 */
export function ks(reference: BinCounts, live: BinCounts): KsResult | null {
  const t = totals(reference, live);
  if (!t) return null;
  const [n, m] = t;
  let cdfRef = 0,
    cdfLive = 0,
    statistic = 0;
  for (let i = 0; i < reference.length; i++) {
    cdfRef += reference[i]!;
    cdfLive += live[i]!;
    // Differences of counts, divided once: identical histograms give exactly 0.
    const gap = Math.abs(cdfRef * m - cdfLive * n) / (n * m);
    if (gap > statistic) statistic = gap;
  }
  const e = Math.sqrt((n * m) / (n + m));
  const pValue = kolmogorovSurvival((e + 0.12 + 0.11 / e) * statistic);
  return { statistic, pValue, n, m };
}

export interface ChiSquareResult {
  statistic: number;
  /** Degrees of freedom: bins with any count − 1. */
  dof: number;
  pValue: number;
}

/**
 * Chi-square test of homogeneity of the two histograms (a 2 × k contingency table; bins empty on
 * both sides are dropped, as they carry no information and would divide by zero). No continuity
 * correction, as scipy's `chi2_contingency(correction=False)`. One occupied bin: dof 0, p = 1.
 */
export function chiSquare(reference: BinCounts, live: BinCounts): ChiSquareResult | null {
  const t = totals(reference, live);
  if (!t) return null;
  const [n, m] = t;
  const all = n + m;
  let statistic = 0,
    columns = 0;
  for (let i = 0; i < reference.length; i++) {
    const column = reference[i]! + live[i]!;
    if (column === 0) continue;
    columns++;
    const expectedRef = (n * column) / all;
    const expectedLive = (m * column) / all;
    statistic += (reference[i]! - expectedRef) ** 2 / expectedRef + (live[i]! - expectedLive) ** 2 / expectedLive;
  }
  const dof = columns - 1;
  if (dof === 0) return { statistic: 0, dof, pValue: 1 };
  return { statistic, dof, pValue: chiSquareSurvival(statistic, dof) };
}

// ---- one rollup's own numbers ------------------------------------------------------------

/** Mean of the values counted, exact from the sums; null when none were. */
export function valueMean(s: ValueStats): number | null {
  return s.n > 0 ? s.sum / s.n : null;
}

/** Population standard deviation (ddof 0) from the sums; null when no value was counted. */
export function valueStd(s: ValueStats): number | null {
  if (s.n === 0) return null;
  const mean = s.sum / s.n;
  // Cancellation can make the difference slightly negative for a constant value.
  return Math.sqrt(Math.max(0, s.sumSq / s.n - mean * mean));
}

export interface ErrorSummary {
  /** Records with both a prediction and a reference value. */
  n: number;
  mae: number;
  rmse: number;
  /** Mean of prediction − reference: positive when the model reads high. */
  bias: number;
}

/** Live error against the reference values; null when no record had both. */
export function errorSummary(r: Rollup): ErrorSummary | null {
  const e = r.error;
  if (e.n === 0) return null;
  return { n: e.n, mae: e.absSum / e.n, rmse: Math.sqrt(e.sumSq / e.n), bias: e.sum / e.n };
}

/** The error (prediction − reference) histogram, dense on the spec's error edges. */
export function errorHistogram(r: Rollup, spec: BinSpec): Histogram {
  return { edges: [...spec.error], counts: denseCounts(r.error.bins, spec.error) };
}

export interface ClassificationSummary {
  /** Records with both a predicted and a reference class. */
  n: number;
  accuracy: number;
  /** Per class: of the records predicted as it, the share that were it; null when none were predicted as it. */
  precision: (number | null)[];
  /** Per class: of the records that were it, the share predicted as it; null when none were it. */
  recall: (number | null)[];
  /** matrix[reference][predicted] = count (rows are the true class, as scikit-learn's). */
  matrix: number[][];
}

/**
 * Accuracy, per-class precision/recall and the confusion matrix of a classifier's rollup. Classes
 * are 0..classes−1 (the spec's count), widened to cover any larger index the rollup holds.
 * Null for a rollup with no confusion counts (a regressor, or no reference values yet).
 */
export function classificationSummary(r: Rollup, classes = 0): ClassificationSummary | null {
  const confusion = r.confusion ?? {};
  let size = classes;
  let n = 0;
  for (const key in confusion) {
    const [p, ref] = key.split(',').map(Number) as [number, number];
    size = Math.max(size, p + 1, ref + 1);
    n += confusion[key]!;
  }
  if (n === 0) return null;
  const matrix = Array.from({ length: size }, () => new Array<number>(size).fill(0));
  for (const key in confusion) {
    const [p, ref] = key.split(',').map(Number) as [number, number];
    matrix[ref]![p]! += confusion[key]!;
  }
  let correct = 0;
  const precision: (number | null)[] = [];
  const recall: (number | null)[] = [];
  for (let c = 0; c < size; c++) {
    correct += matrix[c]![c]!;
    let predictedAs = 0,
      actually = 0;
    for (let o = 0; o < size; o++) {
      predictedAs += matrix[o]![c]!;
      actually += matrix[c]![o]!;
    }
    precision.push(predictedAs > 0 ? matrix[c]![c]! / predictedAs : null);
    recall.push(actually > 0 ? matrix[c]![c]! / actually : null);
  }
  return { n, accuracy: correct / n, precision, recall, matrix };
}
