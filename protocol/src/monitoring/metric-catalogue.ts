/**
 * @module monitoring/metric-catalogue
 * The metric names rules, queries and the console refer to, and the one function computing any
 * of them from a live rollup (and, for comparisons, a reference distribution). A name is parsed
 * and checked once, where a rule is written, so a misspelt metric is an error then, not a rule
 * that silently never fires.
 *
 * Every result carries `samples`, the number of values the metric was computed on, so rules can
 * refuse a verdict on a window too small to mean anything (drift-defaults.ts).
 */
import { z } from 'zod';
import type { TrainingSummary, Histogram } from '../baseline.js';
import { binIndex } from '../baseline.js';
import { driftVerdict } from './drift-defaults.js';
import {
  binCentre,
  chiSquare,
  classificationSummary,
  errorSummary,
  jsDistance,
  ks,
  psi,
  valueMean,
  valueStd,
  wassersteinNormalized,
} from './metrics.js';
import {
  denseCounts,
  emptyRollup,
  emptyValueStats,
  featureEdges,
  type BinSpec,
  type Rollup,
  type ValueStats,
} from './rollup.js';

export const DISTRIBUTION_STATS = ['psi', 'js', 'wasserstein', 'ks', 'ks_p', 'out_of_range', 'mean', 'std'] as const;
export type DistributionStat = (typeof DISTRIBUTION_STATS)[number];
/** The output may be class indices, which chi-square compares as categories. */
export const OUTPUT_STATS = [...DISTRIBUTION_STATS, 'chi2_p'] as const;
export type OutputStat = (typeof OUTPUT_STATS)[number];
export const ERROR_STATS = ['mae', 'rmse', 'bias', 'mae_ratio'] as const;
export type ErrorStat = (typeof ERROR_STATS)[number];

export type ParsedMetric =
  | { kind: 'feature'; feature: string; stat: DistributionStat }
  | { kind: 'output'; stat: OutputStat }
  | { kind: 'reference'; stat: DistributionStat }
  | { kind: 'error'; stat: ErrorStat }
  | { kind: 'accuracy' }
  | { kind: 'count' }
  | { kind: 'drift.features' }
  | { kind: 'features.max'; stat: FeatureMaxStat };

/** The distances `features.max.<stat>` takes the largest of over all features. */
export const FEATURE_MAX_STATS = ['psi', 'js', 'wasserstein'] as const;
export type FeatureMaxStat = (typeof FEATURE_MAX_STATS)[number];

/** Every form a metric name can take, with what it measures: the help text of rules and queries. */
export const METRIC_FORMS: readonly { form: string; description: string }[] = [
  {
    form: `feature.<name>.{${DISTRIBUTION_STATS.join(',')}}`,
    description:
      'a monitoring feature: drift from the reference (psi, js, wasserstein, ks, ks_p; out_of_range: share of values in bins the reference has none in) or its live mean/std',
  },
  {
    form: `output.{${OUTPUT_STATS.join(',')}}`,
    description: 'the prediction: drift from the reference (chi2_p for class outputs) or its live mean/std',
  },
  {
    form: `reference.{${DISTRIBUTION_STATS.join(',')}}`,
    description: "the sensor's reference values (label shift) against the training labels, or their mean/std",
  },
  {
    form: `error.{${ERROR_STATS.join(',')}}`,
    description: "live error against reference values; mae_ratio = live MAE / the version's validation MAE",
  },
  { form: 'accuracy', description: "a classifier's share of predictions equal to the reference class" },
  { form: 'count', description: 'records in the window' },
  { form: 'drift.features', description: 'share of the reference’s features that drifted (driftVerdict defaults)' },
  {
    form: `features.max.{${FEATURE_MAX_STATS.join(',')}}`,
    description: 'the largest drift of any of the reference’s features (one feature moving far is enough)',
  },
];

const FEATURE_NAME_MAX = 64;

function unknownMetric(name: string, why: string): RangeError {
  return new RangeError(`unknown metric "${name}": ${why}. Valid forms: ${METRIC_FORMS.map((f) => f.form).join(', ')}`);
}

function pick<T extends string>(name: string, stat: string, allowed: readonly T[], what: string): T {
  if ((allowed as readonly string[]).includes(stat)) return stat as T;
  throw unknownMetric(name, `${what} has no statistic "${stat}" (use one of ${allowed.join(', ')})`);
}

/** Parses a metric name; throws a RangeError naming the valid forms when it is not one. */
export function parseMetricName(name: string): ParsedMetric {
  if (name === 'accuracy' || name === 'count' || name === 'drift.features') return { kind: name };
  const dot = name.indexOf('.');
  const head = dot < 0 ? name : name.slice(0, dot);
  const rest = dot < 0 ? '' : name.slice(dot + 1);
  switch (head) {
    case 'feature': {
      // Feature names may contain dots themselves; the statistic is the last part.
      const last = rest.lastIndexOf('.');
      const feature = last < 0 ? '' : rest.slice(0, last);
      if (feature === '' || feature.length > FEATURE_NAME_MAX) {
        throw unknownMetric(
          name,
          `a feature metric is feature.<name>.<statistic>, name 1–${FEATURE_NAME_MAX} characters`,
        );
      }
      return { kind: 'feature', feature, stat: pick(name, rest.slice(last + 1), DISTRIBUTION_STATS, 'a feature') };
    }
    case 'output':
      return { kind: 'output', stat: pick(name, rest, OUTPUT_STATS, 'the output') };
    case 'reference':
      return { kind: 'reference', stat: pick(name, rest, DISTRIBUTION_STATS, 'the reference value') };
    case 'error':
      return { kind: 'error', stat: pick(name, rest, ERROR_STATS, 'the error') };
    case 'features':
      if (!rest.startsWith('max.')) throw unknownMetric(name, 'the features family is features.max.<statistic>');
      return { kind: 'features.max', stat: pick(name, rest.slice(4), FEATURE_MAX_STATS, 'features.max') };
    default:
      throw unknownMetric(name, `"${head}" is not a metric family`);
  }
}

/** A metric name in a schema (rules from config, API and CLI): invalid names fail with parseMetricName's message. */
export const metricNameSchema = z
  .string()
  .max(200)
  .superRefine((name, ctx) => {
    try {
      parseMetricName(name);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
    }
  });

const COMPARISONS: ReadonlySet<string> = new Set(['psi', 'js', 'wasserstein', 'ks', 'ks_p', 'chi2_p', 'out_of_range']);

function comparesWithReference(m: ParsedMetric): boolean {
  if (m.kind === 'drift.features' || m.kind === 'features.max') return true;
  if (m.kind === 'error') return m.stat === 'mae_ratio';
  return (m.kind === 'feature' || m.kind === 'output' || m.kind === 'reference') && COMPARISONS.has(m.stat);
}

/** Does the metric compare the live window with a reference distribution (so computeMetric needs one)? */
export function needsReference(name: string): boolean {
  return comparesWithReference(parseMetricName(name));
}

/**
 * What live windows are compared with: a rollup of the training data (referenceFromSummary) or
 * of a chosen live reference window, plus the version's validation MAE (trainer metrics'
 * `validation.mae`) for error.mae_ratio.
 */
export type ReferenceDistribution = Rollup & { validationMae?: number | null };

export interface MetricValue {
  /** null when there is nothing to compute it on (no values, or no reference values for the comparison). */
  value: number | null;
  /** Live values the metric was computed on. */
  samples: number;
}

function distributionStat(
  stat: OutputStat,
  live: ValueStats | undefined,
  reference: ValueStats | undefined,
  edges: readonly number[],
): MetricValue {
  const samples = live?.n ?? 0;
  if (!live || samples === 0) return { value: null, samples: 0 };
  if (stat === 'mean') return { value: valueMean(live), samples };
  if (stat === 'std') return { value: valueStd(live), samples };
  if (!reference) return { value: null, samples };
  const ref = denseCounts(reference.bins, edges);
  const cur = denseCounts(live.bins, edges);
  switch (stat) {
    case 'psi':
      return { value: psi(ref, cur), samples };
    case 'js':
      return { value: jsDistance(ref, cur), samples };
    case 'wasserstein':
      return { value: wassersteinNormalized(ref, cur, edges), samples };
    case 'ks':
      return { value: ks(ref, cur)?.statistic ?? null, samples };
    case 'ks_p':
      return { value: ks(ref, cur)?.pValue ?? null, samples };
    case 'chi2_p':
      return { value: chiSquare(ref, cur)?.pValue ?? null, samples };
    case 'out_of_range':
      return { value: outOfRangeShare(ref, cur), samples };
  }
}

/**
 * Share of live values in bins the reference has none in: values the model never saw in training
 * (or in the reference window). Sharper than a distance for a range that widens, e.g. labels
 * now reaching 350 mm where training stopped at 250: a few percent of such values are a shift
 * while PSI still averages them with the rest. Null when the reference is empty.
 */
function outOfRangeShare(reference: readonly number[], live: readonly number[]): number | null {
  let refTotal = 0,
    total = 0,
    outside = 0;
  for (let i = 0; i < live.length; i++) {
    refTotal += reference[i]!;
    total += live[i]!;
    if (reference[i] === 0) outside += live[i]!;
  }
  return refTotal === 0 || total === 0 ? null : outside / total;
}

/** Share of the reference's features with a drift verdict that drifted; samples = the smallest window judged. */
function featureDriftShare(live: Rollup, spec: BinSpec, reference: Rollup): MetricValue {
  let judged = 0,
    drifted = 0,
    fewest = Infinity,
    most = 0;
  for (const name in reference.features) {
    const edges = featureEdges(spec, name);
    const cur = live.features[name];
    const v = driftVerdict(
      denseCounts(reference.features[name]!.bins, edges),
      denseCounts(cur?.bins ?? {}, edges),
      edges,
    );
    most = Math.max(most, v.n);
    if (v.drifted === null) continue;
    judged++;
    if (v.drifted) drifted++;
    fewest = Math.min(fewest, v.n);
  }
  return judged === 0 ? { value: null, samples: most } : { value: drifted / judged, samples: fewest };
}

/**
 * Computes metric `name` on the live rollup `live` (counted on `spec`), against `reference` for
 * the comparisons. Throws on an unknown name, and when a comparison is asked for without a
 * reference (check needsReference first where a version may have none).
 */
export function computeMetric(
  name: string,
  live: Rollup,
  spec: BinSpec,
  reference?: ReferenceDistribution,
): MetricValue {
  const m = parseMetricName(name);
  if (!reference && comparesWithReference(m)) {
    throw new RangeError(
      `metric "${name}" compares the live window with a reference distribution: pass the version's baseline (referenceFromSummary) or a reference window's rollup`,
    );
  }
  switch (m.kind) {
    case 'count':
      return { value: live.count, samples: live.count };
    case 'accuracy': {
      const s = classificationSummary(live, spec.classes);
      return { value: s?.accuracy ?? null, samples: s?.n ?? 0 };
    }
    case 'error': {
      const e = errorSummary(live);
      const samples = live.error.n;
      if (!e) return { value: null, samples };
      if (m.stat !== 'mae_ratio') return { value: e[m.stat], samples };
      const validationMae = reference?.validationMae;
      return { value: validationMae && validationMae > 0 ? e.mae / validationMae : null, samples };
    }
    case 'feature':
      return distributionStat(
        m.stat,
        live.features[m.feature],
        reference?.features[m.feature],
        featureEdges(spec, m.feature),
      );
    case 'output':
      return distributionStat(m.stat, live.output, reference?.output, spec.output);
    case 'reference':
      return distributionStat(m.stat, live.reference, reference?.reference, spec.reference);
    case 'drift.features':
      return featureDriftShare(live, spec, reference!);
    case 'features.max':
      return largestFeatureDrift(m.stat, live, spec, reference!);
  }
}

/** The largest `stat` over the reference's features the live window has; samples: the fewest any of them had. */
function largestFeatureDrift(
  stat: FeatureMaxStat,
  live: Rollup,
  spec: BinSpec,
  reference: ReferenceDistribution,
): MetricValue {
  let largest: number | null = null;
  let fewest = Infinity;
  for (const name of Object.keys(reference.features)) {
    const m = distributionStat(stat, live.features[name], reference.features[name], featureEdges(spec, name));
    fewest = Math.min(fewest, m.samples);
    if (m.value !== null && (largest === null || m.value > largest)) largest = m.value;
  }
  return { value: largest, samples: Number.isFinite(fewest) ? fewest : 0 };
}

function sameEdges(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((e, i) => e === b[i]);
}

/**
 * A training histogram as ValueStats on `edges`. Its sums place every value at its bin's centre
 * (the histogram knows no more). On the same edges the bins are copied exactly; on other edges
 * each bin's count moves to the bin of `edges` its centre falls in, an approximation that only
 * arises when a spec was not built from this summary (binSpecFor).
 */
function statsFromHistogram(h: Histogram, edges: readonly number[]): ValueStats {
  const s = emptyValueStats();
  const same = sameEdges(h.edges, edges);
  for (let i = 0; i < h.counts.length; i++) {
    const c = h.counts[i]!;
    if (c === 0) continue;
    const centre = binCentre(h.edges, i);
    const key = String(same ? i : binIndex(edges, centre));
    s.bins[key] = (s.bins[key] ?? 0) + c;
    s.n += c;
    s.sum += c * centre;
    s.sumSq += c * centre * centre;
    if (centre < s.min) s.min = centre;
    if (centre > s.max) s.max = centre;
  }
  return s;
}

/**
 * A version's training baseline as a rollup on its spec: the reference distribution its live
 * windows are compared with. The features, prediction and reference histograms become the
 * rollup's features, output and reference; the error part stays empty (training error is the
 * trainer metrics' validation MAE, passed as `validationMae`).
 */
export function referenceFromSummary(
  summary: TrainingSummary,
  spec: BinSpec,
  validationMae?: number | null,
): ReferenceDistribution {
  const r: ReferenceDistribution = emptyRollup(spec.classes !== undefined);
  r.count = summary.count;
  for (const [name, h] of Object.entries(summary.features))
    r.features[name] = statsFromHistogram(h, featureEdges(spec, name));
  if (summary.prediction) r.output = statsFromHistogram(summary.prediction, spec.output);
  if (summary.reference) r.reference = statsFromHistogram(summary.reference, spec.reference);
  if (validationMae !== undefined) r.validationMae = validationMae;
  return r;
}
