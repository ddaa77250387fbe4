/**
 * @module bench/metrics
 * monitoring.metric_eval_us: µs per computeMetric call over a device's default rule metrics
 * (feature PSI / JS / normalised Wasserstein / KS p on 20-bin image features, output PSI on 32
 * bins, error MAE, and drift.features over 10 features), on a rollup of 5,000 records against
 * the training baseline. The agent evaluates these on its own windows while it serves, so they
 * must stay far below a prediction's cost. Baseline: µs to fold one 10-feature record into a
 * rollup, the per-record work every window already pays.
 */
import {
  binSpecFor,
  computeMetric,
  emptyRollup,
  FEATURE_EDGES,
  foldRecord,
  histogramOf,
  referenceFromSummary,
  valueEdges,
  type RollupInput,
  type TrainingSummary,
} from '@edgeloop/protocol';
import type { Bench } from './figure.js';

const FEATURES = [...Object.keys(FEATURE_EDGES), 'f8', 'f9', 'f10'];
const METRICS = [
  'feature.brightness.psi',
  'feature.brightness.js',
  'feature.saturation.wasserstein',
  'feature.contrast.ks_p',
  'output.psi',
  'error.mae',
  'drift.features',
];

function records(n: number, shift: number): RollupInput[] {
  let s = 12345;
  const rand = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: n }, () => {
    const features: Record<string, number> = {};
    for (const f of FEATURES) features[f] = f === 'sharpness' ? rand() * 16 : rand() * 0.6 + shift;
    const prediction = 50 + rand() * 150;
    return { features, prediction, reference: prediction + rand() * 10 - 5 };
  });
}

export const metricsBench: Bench = {
  name: 'monitoring.metric_eval_us',
  async run(progress) {
    const training = records(5_000, 0);
    const summary: TrainingSummary = {
      count: training.length,
      features: Object.fromEntries(
        FEATURES.map((f) => [
          f,
          histogramOf(
            training.map((r) => r.features[f]!),
            FEATURE_EDGES[f] ?? valueEdges(0, 1, 20),
          ),
        ]),
      ),
      prediction: histogramOf(
        training.map((r) => r.prediction!),
        valueEdges(50, 200),
      ),
      reference: histogramOf(
        training.map((r) => r.reference!),
        valueEdges(50, 200),
      ),
    };
    const spec = binSpecFor(summary);
    const reference = referenceFromSummary(summary, spec, 3);
    const live = records(5_000, 0.05);

    progress('baseline: folding records');
    const foldRounds = 20;
    let t0 = performance.now();
    for (let round = 0; round < foldRounds; round++) {
      const r = emptyRollup();
      for (const rec of live) foldRecord(r, spec, rec);
    }
    const foldUs = ((performance.now() - t0) * 1000) / (foldRounds * live.length);

    const window = emptyRollup();
    for (const rec of live) foldRecord(window, spec, rec);
    progress(`computing ${METRICS.length} metrics`);
    const rounds = 2_000;
    let sink = 0;
    for (let i = 0; i < 200; i++) for (const m of METRICS) sink += computeMetric(m, window, spec, reference).samples;
    t0 = performance.now();
    for (let i = 0; i < rounds; i++) for (const m of METRICS) sink += computeMetric(m, window, spec, reference).samples;
    const metricUs = ((performance.now() - t0) * 1000) / (rounds * METRICS.length);
    if (sink === 0) throw new Error('metrics computed on no samples: the bench rollup is empty');
    return [
      {
        name: 'monitoring.metric_eval_us',
        value: metricUs,
        unit: 'µs',
        baseline: foldUs,
        note: `mean µs per computeMetric over ${METRICS.join(', ')}; baseline µs per folded 10-feature record`,
      },
    ];
  },
};
