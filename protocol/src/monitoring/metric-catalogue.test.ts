import { test } from 'node:test';
import assert from 'node:assert/strict';
import { histogramOf, valueEdges, type TrainingSummary } from '../baseline.js';
import {
  computeMetric,
  METRIC_FORMS,
  metricNameSchema,
  needsReference,
  parseMetricName,
  referenceFromSummary,
} from './metric-catalogue.js';
import { jsDistance, ks, psi, wassersteinNormalized, chiSquare } from './metrics.js';
import {
  binSpecFor,
  denseCounts,
  emptyRollup,
  foldRecord,
  mergeRollup,
  rollupFromWire,
  rollupSchema,
  rollupToWire,
  type BinSpec,
  type Rollup,
  type RollupInput,
} from './rollup.js';

/** Deterministic pseudo-normal values (sum of three LCG uniforms), mean `mean`, spread ~`spread`. */
function values(count: number, mean: number, spread: number, seed: number): number[] {
  let s = seed;
  const u = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  return Array.from({ length: count }, () => mean + spread * (u() + u() + u()));
}

const OUTPUT_EDGES = valueEdges(0, 100);
const training = {
  brightness: values(2_000, 0.5, 0.1, 1),
  'cam.gain': values(2_000, 3, 0.5, 2),
  output: values(2_000, 50, 10, 3),
};
const summary: TrainingSummary = {
  count: 2_000,
  features: {
    brightness: histogramOf(
      training.brightness,
      [...Array(21).keys()].map((i) => i / 20),
    ),
    'cam.gain': histogramOf(training['cam.gain'], valueEdges(0, 6)),
  },
  prediction: histogramOf(training.output, OUTPUT_EDGES),
  reference: histogramOf(training.output, OUTPUT_EDGES),
};
const spec = binSpecFor(summary);

/** A live window's records: brightness shifted by `brightnessShift`, reference values = output + `offset`. */
function liveRecords(n: number, brightnessShift: number, offset: number): RollupInput[] {
  const b = values(n, 0.5 + brightnessShift, 0.1, 10);
  const g = values(n, 3, 0.5, 11);
  const out = values(n, 50, 10, 12);
  return out.map((prediction, i) => ({
    features: { brightness: b[i]!, 'cam.gain': g[i]! },
    prediction,
    reference: prediction + offset * (i % 2 === 0 ? 1 : -0.5),
  }));
}

function liveRollup(n: number, brightnessShift: number, offset: number): Rollup {
  const r = emptyRollup();
  for (const rec of liveRecords(n, brightnessShift, offset)) foldRecord(r, spec, rec);
  return r;
}

test('metric names parse into their parts, feature names may contain dots', () => {
  assert.deepEqual(parseMetricName('feature.cam.gain.psi'), { kind: 'feature', feature: 'cam.gain', stat: 'psi' });
  assert.deepEqual(parseMetricName('output.chi2_p'), { kind: 'output', stat: 'chi2_p' });
  assert.deepEqual(parseMetricName('reference.ks_p'), { kind: 'reference', stat: 'ks_p' });
  assert.deepEqual(parseMetricName('error.mae_ratio'), { kind: 'error', stat: 'mae_ratio' });
  assert.deepEqual(parseMetricName('drift.features'), { kind: 'drift.features' });
  assert.deepEqual(parseMetricName('count'), { kind: 'count' });
});

test('unknown names fail with the valid forms listed', () => {
  const forms = METRIC_FORMS.map((f) => f.form);
  for (const bad of ['latency', 'feature.psi', 'feature.brightness.median', 'error.mape', 'reference.chi2_p', '']) {
    assert.throws(
      () => parseMetricName(bad),
      (e: Error) => e instanceof RangeError && forms.every((f) => e.message.includes(f)),
      bad,
    );
  }
  assert.throws(
    () => parseMetricName('feature.brightness.median'),
    /a feature has no statistic "median" \(use one of psi, js/,
  );
  const parsed = metricNameSchema.safeParse('output.kl');
  assert.equal(parsed.success, false);
  assert.match(parsed.error!.issues[0]!.message, /the output has no statistic "kl"/);
  assert.equal(metricNameSchema.safeParse('feature.x.std').success, true);
});

test('needsReference: comparisons and the MAE ratio do, live statistics do not', () => {
  for (const name of ['feature.x.psi', 'output.chi2_p', 'reference.wasserstein', 'error.mae_ratio', 'drift.features'])
    assert.equal(needsReference(name), true, name);
  for (const name of ['feature.x.mean', 'output.std', 'error.rmse', 'accuracy', 'count'])
    assert.equal(needsReference(name), false, name);
  assert.throws(
    () => computeMetric('feature.brightness.psi', liveRollup(10, 0, 0), spec),
    /pass the version's baseline/,
  );
});

test('the training baseline as a rollup keeps its histograms bin for bin', () => {
  const ref = referenceFromSummary(summary, spec, 2.5);
  assert.equal(ref.count, 2_000);
  assert.equal(ref.validationMae, 2.5);
  assert.deepEqual(
    denseCounts(ref.features['cam.gain']!.bins, spec.features['cam.gain']!),
    summary.features['cam.gain']!.counts,
  );
  assert.deepEqual(denseCounts(ref.output.bins, spec.output), summary.prediction!.counts);
  assert.equal(ref.reference.n, 2_000);
  // Sums at bin centres: the mean is within half a bin of the values' own.
  const trueMean = training.output.reduce((a, b) => a + b, 0) / 2_000;
  assert.ok(Math.abs(ref.output.sum / ref.output.n - trueMean) < (OUTPUT_EDGES[1]! - OUTPUT_EDGES[0]!) / 2);
  // On other edges each bin moves whole to where its centre falls: nothing is lost.
  const other: BinSpec = { ...spec, output: valueEdges(0, 200, 8) };
  const moved = referenceFromSummary(summary, other);
  assert.equal(
    denseCounts(moved.output.bins, other.output).reduce((a, b) => a + b, 0),
    2_000,
  );
});

test('every comparison equals the metric functions on the dense counts of both sides', () => {
  const live = liveRollup(800, 0.1, 0);
  const ref = referenceFromSummary(summary, spec);
  const edges = spec.features.brightness!;
  const r = denseCounts(ref.features.brightness!.bins, edges);
  const l = denseCounts(live.features.brightness!.bins, edges);
  const metric = (stat: string) => computeMetric(`feature.brightness.${stat}`, live, spec, ref);
  assert.deepEqual(metric('psi'), { value: psi(r, l), samples: 800 });
  assert.deepEqual(metric('js'), { value: jsDistance(r, l), samples: 800 });
  assert.deepEqual(metric('wasserstein'), { value: wassersteinNormalized(r, l, edges), samples: 800 });
  assert.deepEqual(metric('ks'), { value: ks(r, l)!.statistic, samples: 800 });
  assert.deepEqual(metric('ks_p'), { value: ks(r, l)!.pValue, samples: 800 });
  const ro = denseCounts(ref.output.bins, spec.output);
  const lo = denseCounts(live.output.bins, spec.output);
  assert.deepEqual(computeMetric('output.chi2_p', live, spec, ref), { value: chiSquare(ro, lo)!.pValue, samples: 800 });
  // The shifted feature drifted, the other did not.
  assert.ok(metric('wasserstein').value! > 0.5);
  assert.ok(computeMetric('feature.cam.gain.wasserstein', live, spec, ref).value! < 0.1);
  assert.deepEqual(computeMetric('drift.features', live, spec, ref), { value: 0.5, samples: 800 });
  // features.max: the shifted feature's distance, the larger of the two.
  const gain = (stat: string) => computeMetric(`feature.cam.gain.${stat}`, live, spec, ref).value!;
  for (const stat of ['psi', 'js', 'wasserstein'])
    assert.deepEqual(computeMetric(`features.max.${stat}`, live, spec, ref), {
      value: Math.max(metric(stat).value!, gain(stat)),
      samples: 800,
    });
  assert.ok(needsReference('features.max.psi'));
  // out_of_range: the share of live values in bins the reference has none in.
  const refBins = denseCounts(ref.features.brightness!.bins, edges);
  const outside = l.reduce((n, c, i) => n + (refBins[i] === 0 ? c : 0), 0);
  assert.deepEqual(metric('out_of_range'), { value: outside / 800, samples: 800 });
  assert.throws(() => parseMetricName('features.min.psi'), /features.max.<statistic>/);
  assert.throws(() => parseMetricName('features.max.ks'), /no statistic "ks"/);
});

test('live statistics: mean, std, error, count; absent values give null with 0 samples', () => {
  const n = 500;
  const live = liveRollup(n, 0, 4);
  const out = values(n, 50, 10, 12);
  const mean = out.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(out.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  const approx = (v: number | null, expected: number) => assert.ok(Math.abs(v! - expected) < 1e-9 * Math.abs(expected));
  approx(computeMetric('output.mean', live, spec).value, mean);
  approx(computeMetric('output.std', live, spec).value, std);
  // Errors alternate −4 and +2 (prediction − reference).
  approx(computeMetric('error.mae', live, spec).value, 3);
  approx(computeMetric('error.bias', live, spec).value, -1);
  approx(computeMetric('error.rmse', live, spec).value, Math.sqrt(10));
  approx(computeMetric('error.mae_ratio', live, spec, referenceFromSummary(summary, spec, 2)).value, 1.5);
  assert.deepEqual(computeMetric('error.mae_ratio', live, spec, referenceFromSummary(summary, spec)), {
    value: null,
    samples: n,
  });
  assert.deepEqual(computeMetric('count', live, spec), { value: n, samples: n });
  assert.deepEqual(computeMetric('feature.saturation.mean', live, spec), { value: null, samples: 0 });
  assert.deepEqual(computeMetric('error.mae', emptyRollup(), spec), { value: null, samples: 0 });
  assert.deepEqual(computeMetric('accuracy', live, spec), { value: null, samples: 0 });
});

test('too few live values: drift.features has no value, and says how many there were', () => {
  const ref = referenceFromSummary(summary, spec);
  assert.deepEqual(computeMetric('drift.features', liveRollup(40, 0.3, 0), spec, ref), { value: null, samples: 40 });
});

test('accuracy and label shift of a classifier', () => {
  const classSpec = binSpecFor(null, { classes: 3 });
  const reference = emptyRollup(true);
  const live = emptyRollup(true);
  for (let i = 0; i < 300; i++) foldRecord(reference, classSpec, { features: {}, prediction: i % 3, reference: i % 3 });
  for (let i = 0; i < 300; i++) foldRecord(live, classSpec, { features: {}, prediction: i % 3, reference: i % 2 });
  const acc = computeMetric('accuracy', live, classSpec);
  assert.equal(acc.samples, 300);
  assert.ok(Math.abs(acc.value! - 100 / 300) < 1e-12); // i ≡ 0, 1 (mod 6) only
  assert.ok(computeMetric('reference.js', live, classSpec, reference).value! > 0.3);
  assert.ok(computeMetric('output.chi2_p', live, classSpec, reference).value! > 0.99);
});

test('metrics of merged edge summaries (through the wire) equal metrics of all the records', () => {
  const records = liveRecords(900, 0.05, 3);
  const whole = liveRollup(900, 0.05, 3);
  const parts = [emptyRollup(), emptyRollup(), emptyRollup()];
  records.forEach((rec, i) => foldRecord(parts[i % 3]!, spec, rec));
  const merged = emptyRollup();
  for (const p of parts)
    mergeRollup(merged, rollupFromWire(rollupSchema.parse(JSON.parse(JSON.stringify(rollupToWire(p))))));
  const ref = referenceFromSummary(summary, spec, 2);
  const names = [
    'feature.brightness.psi',
    'feature.cam.gain.ks_p',
    'output.wasserstein',
    'reference.js',
    'drift.features',
    'count',
  ];
  for (const name of names)
    assert.deepEqual(computeMetric(name, merged, spec, ref), computeMetric(name, whole, spec, ref), name);
  for (const name of ['error.mae', 'error.rmse', 'output.mean', 'feature.brightness.std']) {
    const a = computeMetric(name, merged, spec, ref).value!;
    const e = computeMetric(name, whole, spec, ref).value!;
    assert.ok(Math.abs(a - e) <= 1e-9 * Math.abs(e), `${name}: ${a} vs ${e}`);
  }
});
