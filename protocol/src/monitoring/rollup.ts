/**
 * @module monitoring/rollup
 * The mergeable summary of a set of telemetry records: what the fleet server folds every record
 * into as it is stored, what an agent in bandwidth mode sends instead of its records, and what
 * every drift and live-error metric (monitoring/metrics.ts) is computed from.
 *
 * Every part is an exact merge: counts and bin counts add, sums add, min/max take the extreme.
 * So a group's, the fleet's, a rollout arm's or any longer window's rollup is the merge of its
 * parts, and metrics from merged rollups equal metrics from the records themselves (up to the
 * order of floating-point additions in the sums).
 *
 * Histograms are sparse (only bins with a count are kept) on the fixed edges of a BinSpec, which
 * is per model version: its training baseline's edges where it has one, the fixed image-feature
 * edges, else UNIVERSAL_EDGES. Two rollups can only be merged if they were made on the same spec.
 */
import { z } from 'zod';
import { binIndex, FEATURE_EDGES, type TrainingSummary } from '../baseline.js';

/** Bin index (as a decimal string, JSON's only key type) → count; bins with no values are absent. */
export type SparseCounts = Record<string, number>;

/** Count, moments, extremes and histogram of one numeric quantity (a feature, the output, the reference value). */
export interface ValueStats {
  /** Values counted (a record without this value does not count). */
  n: number;
  sum: number;
  sumSq: number;
  min: number;
  max: number;
  bins: SparseCounts;
}

/** The same, for the error prediction − reference, plus the sum of absolute errors (MAE). */
export interface ErrorStats extends ValueStats {
  absSum: number;
}

export interface Rollup {
  /** Records folded in. */
  count: number;
  /** Monitoring feature name → its stats. */
  features: Record<string, ValueStats>;
  /** The prediction (records with one). */
  output: ValueStats;
  /** The reference value (records with one). */
  reference: ValueStats;
  /** prediction − reference over records with both. */
  error: ErrorStats;
  /**
   * Classifiers only: `"<predicted class>,<reference class>"` → count, over records with both
   * (class indices). Accuracy, per-class precision/recall and the confusion matrix come from it.
   */
  confusion?: SparseCounts;
}

/**
 * Edges every histogram of one model version is counted on. Equal specs (specId) make rollups
 * mergeable; an agent's edge summaries name the spec they were made on.
 */
export interface BinSpec {
  /** Edges per feature; features not named here use FEATURE_EDGES, else UNIVERSAL_EDGES. */
  features: Readonly<Record<string, readonly number[]>>;
  output: readonly number[];
  reference: readonly number[];
  error: readonly number[];
  /** Number of classes when the model is a classifier (prediction and reference are class indices). */
  classes?: number;
}

/**
 * Edges for a quantity whose range nobody stated (no training baseline): 0, then ±10^k for k in
 * -3..6 in 8 log-spaced steps per decade. Relative resolution ~33 %, any magnitude from 0.001 to
 * 10^6 lands in its own bin, and sparse storage keeps the unused bins free.
 */
export const UNIVERSAL_EDGES: readonly number[] = (() => {
  const positive: number[] = [];
  for (let k = -3 * 8; k <= 6 * 8; k++) positive.push(Number((10 ** (k / 8)).toPrecision(6)));
  return [...positive.map((v) => -v).reverse(), 0, ...positive];
})();

/** Bins of the error histogram when the reference range is known. */
export const ERROR_BINS = 40;

/** Symmetric error edges: ERROR_BINS equal bins over ±half the reference edges' span. */
export function errorEdges(referenceEdges: readonly number[]): number[] {
  const span = referenceEdges[referenceEdges.length - 1]! - referenceEdges[0]!;
  const half = span / 2;
  const step = span / ERROR_BINS;
  return Array.from({ length: ERROR_BINS + 1 }, (_, i) => (i === ERROR_BINS ? half : -half + i * step));
}

/**
 * The spec of a version: its training baseline's edges where it has them (features, prediction,
 * reference), the fixed image-feature edges for image features, else UNIVERSAL_EDGES.
 */
export function binSpecFor(summary?: TrainingSummary | null, opts: { classes?: number } = {}): BinSpec {
  const features: Record<string, readonly number[]> = { ...FEATURE_EDGES };
  for (const [name, h] of Object.entries(summary?.features ?? {})) features[name] = h.edges;
  if (opts.classes !== undefined) {
    const classEdges = Array.from({ length: opts.classes + 1 }, (_, i) => i - 0.5);
    return { features, output: classEdges, reference: classEdges, error: UNIVERSAL_EDGES, classes: opts.classes };
  }
  const output = summary?.prediction?.edges ?? summary?.reference?.edges ?? UNIVERSAL_EDGES;
  const reference = summary?.reference?.edges ?? output;
  const error = reference === UNIVERSAL_EDGES ? UNIVERSAL_EDGES : errorEdges(reference);
  return { features, output, reference, error };
}

/** The edges a feature is counted on under `spec`. */
export function featureEdges(spec: BinSpec, name: string): readonly number[] {
  return spec.features[name] ?? UNIVERSAL_EDGES;
}

/** A short id of a spec: equal ids, equal edges (FNV-1a over the canonical JSON). */
export function binSpecId(spec: BinSpec): string {
  const canonical = JSON.stringify({
    f: Object.keys(spec.features)
      .sort()
      .map((k) => [k, spec.features[k]]),
    o: spec.output,
    r: spec.reference,
    e: spec.error,
    c: spec.classes ?? null,
  });
  let h1 = 0x811c9dc5,
    h2 = 0x01000193;
  for (let i = 0; i < canonical.length; i++) {
    const c = canonical.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  return `bs-${h1.toString(16).padStart(8, '0')}${h2.toString(16).padStart(8, '0')}`;
}

export function emptyValueStats(): ValueStats {
  return { n: 0, sum: 0, sumSq: 0, min: Infinity, max: -Infinity, bins: {} };
}

export function emptyRollup(classifier = false): Rollup {
  return {
    count: 0,
    features: {},
    output: emptyValueStats(),
    reference: emptyValueStats(),
    error: { ...emptyValueStats(), absSum: 0 },
    ...(classifier ? { confusion: {} } : {}),
  };
}

function addValue(s: ValueStats, edges: readonly number[], v: number): void {
  s.n++;
  s.sum += v;
  s.sumSq += v * v;
  if (v < s.min) s.min = v;
  if (v > s.max) s.max = v;
  const key = String(binIndex(edges, v));
  s.bins[key] = (s.bins[key] ?? 0) + 1;
}

/** What of a record a rollup counts (a TelemetryRecord has all of it). */
export interface RollupInput {
  features: Readonly<Record<string, number>>;
  prediction?: number | null;
  reference?: number | null;
}

/** Folds one record into `r` (in place): O(features × log bins). Non-finite values are not counted. */
export function foldRecord(r: Rollup, spec: BinSpec, rec: RollupInput): void {
  r.count++;
  for (const name in rec.features) {
    const v = rec.features[name]!;
    if (!Number.isFinite(v)) continue;
    const s = (r.features[name] ??= emptyValueStats());
    addValue(s, featureEdges(spec, name), v);
  }
  const p = rec.prediction;
  const ref = rec.reference;
  const hasP = typeof p === 'number' && Number.isFinite(p);
  const hasRef = typeof ref === 'number' && Number.isFinite(ref);
  if (hasP) addValue(r.output, spec.output, p);
  if (hasRef) addValue(r.reference, spec.reference, ref);
  if (hasP && hasRef) foldError(r, spec, p, ref);
}

/**
 * Folds a reference value that arrived after its record was already folded (the record's
 * prediction is given again): the reference and error parts only, never the count or features.
 */
export function foldLateReference(
  r: Rollup,
  spec: BinSpec,
  prediction: number | null | undefined,
  reference: number,
): void {
  if (!Number.isFinite(reference)) return;
  addValue(r.reference, spec.reference, reference);
  if (typeof prediction === 'number' && Number.isFinite(prediction)) foldError(r, spec, prediction, reference);
}

function foldError(r: Rollup, spec: BinSpec, p: number, ref: number): void {
  const e = p - ref;
  addValue(r.error, spec.error, e);
  r.error.absSum += Math.abs(e);
  if (r.confusion && spec.classes !== undefined) {
    const key = `${Math.round(p)},${Math.round(ref)}`;
    r.confusion[key] = (r.confusion[key] ?? 0) + 1;
  }
}

function mergeCounts(into: SparseCounts, from: SparseCounts): void {
  for (const k in from) into[k] = (into[k] ?? 0) + from[k]!;
}

function mergeValue(into: ValueStats, from: ValueStats): void {
  into.n += from.n;
  into.sum += from.sum;
  into.sumSq += from.sumSq;
  if (from.min < into.min) into.min = from.min;
  if (from.max > into.max) into.max = from.max;
  mergeCounts(into.bins, from.bins);
}

/** Merges `from` into `into` (in place) and returns `into`. Both must be on the same BinSpec. */
export function mergeRollup(into: Rollup, from: Rollup): Rollup {
  into.count += from.count;
  for (const name in from.features) mergeValue((into.features[name] ??= emptyValueStats()), from.features[name]!);
  mergeValue(into.output, from.output);
  mergeValue(into.reference, from.reference);
  mergeValue(into.error, from.error);
  into.error.absSum += from.error.absSum;
  if (from.confusion) mergeCounts((into.confusion ??= {}), from.confusion);
  return into;
}

/** A deep copy (merging into an empty rollup). */
export function cloneRollup(r: Rollup): Rollup {
  return mergeRollup(emptyRollup(r.confusion !== undefined), r);
}

/** Dense counts of a sparse histogram on `edges` (edges.length − 1 bins). */
export function denseCounts(bins: SparseCounts, edges: readonly number[]): number[] {
  const out = new Array<number>(edges.length - 1).fill(0);
  for (const k in bins) {
    const i = Number(k);
    if (i >= 0 && i < out.length) out[i] = bins[k]!;
  }
  return out;
}

// ---- wire format -------------------------------------------------------------------------
// JSON has no Infinity: an empty ValueStats travels with min/max null.

const count = z.number().int().min(0);
const sparseSchema = z
  .record(z.string().regex(/^\d{1,4}$/), z.number().int().min(1))
  .refine((r) => Object.keys(r).length <= 4096, 'at most 4096 bins');
const valueStatsWire = z.object({
  n: count,
  sum: z.number(),
  sumSq: z.number().min(0),
  min: z.number().nullable(),
  max: z.number().nullable(),
  bins: sparseSchema,
});

export const rollupSchema = z
  .object({
    count,
    features: z
      .record(z.string().min(1).max(64), valueStatsWire)
      .refine((r) => Object.keys(r).length <= 64, 'at most 64 features'),
    output: valueStatsWire,
    reference: valueStatsWire,
    error: valueStatsWire.extend({ absSum: z.number().min(0) }),
    confusion: z.record(z.string().regex(/^\d{1,4},\d{1,4}$/), z.number().int().min(1)).optional(),
  })
  .strict();
export type RollupWire = z.infer<typeof rollupSchema>;

function statsToWire<T extends ValueStats>(s: T): Omit<T, 'min' | 'max'> & { min: number | null; max: number | null } {
  return { ...s, min: s.n > 0 ? s.min : null, max: s.n > 0 ? s.max : null };
}
function statsFromWire<T extends { min: number | null; max: number | null }>(
  s: T,
): Omit<T, 'min' | 'max'> & { min: number; max: number } {
  return { ...s, min: s.min ?? Infinity, max: s.max ?? -Infinity };
}

export function rollupToWire(r: Rollup): RollupWire {
  const features: Record<string, ReturnType<typeof statsToWire>> = {};
  for (const [k, v] of Object.entries(r.features)) features[k] = statsToWire(v);
  return {
    count: r.count,
    features,
    output: statsToWire(r.output),
    reference: statsToWire(r.reference),
    error: statsToWire(r.error),
    ...(r.confusion ? { confusion: r.confusion } : {}),
  };
}

export function rollupFromWire(w: RollupWire): Rollup {
  const features: Record<string, ValueStats> = {};
  for (const [k, v] of Object.entries(w.features)) features[k] = statsFromWire(v);
  return {
    count: w.count,
    features,
    output: statsFromWire(w.output),
    reference: statsFromWire(w.reference),
    error: statsFromWire(w.error),
    ...(w.confusion ? { confusion: w.confusion } : {}),
  };
}
