/**
 * @module monitoring/drift-defaults
 * Whether a live histogram has drifted from its reference, with the defaults of the well-known
 * drift tools (Evidently, NannyML), so a rule without settings means what their users expect:
 *
 * - Minimum sample size, MIN_DRIFT_SAMPLES = 100 on each side: below it there is no verdict
 *   (`drifted: null`). The specs have 20–32 bins, so 100 values leave ~3–5 per bin: fewer and
 *   bin-wise distances are mostly sampling noise (100 values drawn from the reference itself sit
 *   ~0.2 from it in JS distance on 20 bins), and chi-square's rule of ≥ 5 expected per cell fails.
 * - Small windows (≤ SMALL_WINDOW_SAMPLES = 1,000 live values): a test, drifted at
 *   p < P_VALUE_THRESHOLD = 0.05. KS for numeric values, chi-square for categorical ones
 *   (class indices). This is Evidently's choice for ≤ 1,000 rows; there a p-value still means
 *   something.
 * - Larger windows: a distance, drifted at ≥ DISTANCE_THRESHOLD = 0.1. Wasserstein normalised by
 *   the reference std for numeric values, Jensen–Shannon distance for categorical ones. On big
 *   samples every p-value becomes tiny for shifts nobody cares about (Evidently #50), while a
 *   distance measures how far, not how sure. JS is the noisier of the two on many bins (1,000
 *   undrifted values on 20 bins: ~0.06, 99th percentile ~0.09), so it is the categorical choice,
 *   where bins are few classes; the normalised Wasserstein of the same samples is ~0.04 (~0.08).
 * - PSI, when asked for: PSI_WARN = 0.1 (moderate shift, drifted), PSI_CRITICAL = 0.25 (major).
 * - Dataset drift (many features): DRIFTED_SHARE = 0.5 of the features drifted, as Evidently.
 *
 * The window size is the live side's: the reference is usually a training baseline of thousands
 * of rows, so the live window decides how sharp a test is. Consecutive frames are correlated,
 * which makes a test's p-value optimistic; the minimum size and the switch to distances keep
 * that from turning into alarms on big windows.
 */
import { chiSquare, jsDistance, ks, psi, wassersteinNormalized, type BinCounts } from './metrics.js';

export const MIN_DRIFT_SAMPLES = 100;
export const SMALL_WINDOW_SAMPLES = 1_000;
export const P_VALUE_THRESHOLD = 0.05;
export const DISTANCE_THRESHOLD = 0.1;
export const PSI_WARN = 0.1;
export const PSI_CRITICAL = 0.25;
export const DRIFTED_SHARE = 0.5;

export const DRIFT_METHODS = ['ks', 'chi2', 'wasserstein', 'js', 'psi'] as const;
export type DriftMethod = (typeof DRIFT_METHODS)[number];

/** Methods whose value is a p-value (drifted below the threshold); the others are distances (drifted at or above). */
const P_VALUE_METHODS: ReadonlySet<DriftMethod> = new Set(['ks', 'chi2']);

export interface DriftVerdictOptions {
  /** The values are class indices, not measurements: chi-square / JS instead of KS / Wasserstein. */
  categorical?: boolean;
  /** A fixed method instead of the choice by window size. */
  method?: DriftMethod;
  /** The method's threshold instead of its default. */
  threshold?: number;
  /** Minimum values on each side for a verdict (default MIN_DRIFT_SAMPLES). */
  minSamples?: number;
}

export interface DriftVerdict {
  method: DriftMethod;
  /** The p-value (ks, chi2) or distance (others); null when there is no verdict. */
  value: number | null;
  threshold: number;
  /** null: too few values on either side to say. */
  drifted: boolean | null;
  /** Live values compared. */
  n: number;
}

/** The method a window of `n` live values is judged by when none is configured. */
export function defaultDriftMethod(n: number, categorical = false): DriftMethod {
  if (n <= SMALL_WINDOW_SAMPLES) return categorical ? 'chi2' : 'ks';
  return categorical ? 'js' : 'wasserstein';
}

export function defaultThreshold(method: DriftMethod): number {
  if (P_VALUE_METHODS.has(method)) return P_VALUE_THRESHOLD;
  return method === 'psi' ? PSI_WARN : DISTANCE_THRESHOLD;
}

export type PsiLevel = 'none' | 'warn' | 'critical';

/** The industry bands of a PSI value: < 0.1 none, 0.1–0.25 warn, ≥ 0.25 critical. */
export function psiLevel(value: number): PsiLevel {
  if (value >= PSI_CRITICAL) return 'critical';
  return value >= PSI_WARN ? 'warn' : 'none';
}

function sum(counts: BinCounts): number {
  let s = 0;
  for (let i = 0; i < counts.length; i++) s += counts[i]!;
  return s;
}

function valueOf(method: DriftMethod, ref: BinCounts, live: BinCounts, edges: readonly number[]): number | null {
  switch (method) {
    case 'ks':
      return ks(ref, live)?.pValue ?? null;
    case 'chi2':
      return chiSquare(ref, live)?.pValue ?? null;
    case 'wasserstein':
      return wassersteinNormalized(ref, live, edges);
    case 'js':
      return jsDistance(ref, live);
    case 'psi':
      return psi(ref, live);
  }
}

/** Has `liveCounts` drifted from `refCounts` (dense counts on `edges`)? See the module comment for the defaults. */
export function driftVerdict(
  refCounts: BinCounts,
  liveCounts: BinCounts,
  edges: readonly number[],
  opts: DriftVerdictOptions = {},
): DriftVerdict {
  const n = sum(liveCounts);
  const method = opts.method ?? defaultDriftMethod(n, opts.categorical);
  const threshold = opts.threshold ?? defaultThreshold(method);
  const minSamples = opts.minSamples ?? MIN_DRIFT_SAMPLES;
  if (n < minSamples || sum(refCounts) < minSamples) return { method, value: null, threshold, drifted: null, n };
  const value = valueOf(method, refCounts, liveCounts, edges);
  if (value === null) return { method, value, threshold, drifted: null, n };
  const drifted = P_VALUE_METHODS.has(method) ? value < threshold : value >= threshold;
  return { method, value, threshold, drifted, n };
}
