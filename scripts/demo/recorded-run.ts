/**
 * @module demo/recorded-run
 * Numbers recorded from a demo run (phases 1, 3 and 5 of `npm run demo`, 8 cars, ×3 time),
 * condensed into a DemoResult: what the report and table tests render, so the renderer is
 * checked on real shapes without running a fleet.
 */
import type { HistogramResponse, LoopStep, SeriesPoint } from '@edgeloop/protocol/rest';
import type { DemoResult, PhaseResult } from './demo-result.js';
import { summarize } from './demo-result.js';

const EPOCH = 1_796_567_417_767;
const MIN = 60_000;

/** Minute points from the first whole minute of the run; null: no records of the version then. */
function points(values: Array<number | null>, samples = 1920): SeriesPoint[] {
  const t0 = Math.floor(EPOCH / MIN) * MIN;
  return values.map((value, i) => ({ t: t0 + i * MIN, value, samples: value === null ? 0 : samples }));
}

function histogram(version: number, quantity: string, live: number[], baseline: number[] | null): HistogramResponse {
  const edges = Array.from({ length: live.length + 1 }, (_, i) => -126 + i * 15.72);
  return {
    model: 'distance',
    version,
    role: 'serving',
    scope: 'fleet',
    quantity,
    from: EPOCH,
    to: EPOCH + 10 * MIN,
    edges,
    baseline,
    live,
    verdict: baseline ? { method: 'wasserstein', value: 0.64, threshold: 0.1, drifted: true, n: 2270 } : null,
  };
}

const step = (name: LoopStep['name'], startS: number, tookS: number, outcome: string): LoopStep => ({
  name,
  status: 'succeeded',
  startedAt: EPOCH + startS * 1000,
  finishedAt: EPOCH + (startS + tookS) * 1000,
  outcome,
  detail: {},
});

function phase(p: Partial<PhaseResult> & Pick<PhaseResult, 'phase' | 'name'>): PhaseResult {
  return {
    kind: 'phase',
    drift: '',
    world: p.name,
    outcome: 'recovered',
    onsetAt: EPOCH,
    onsetS: 0,
    previousVersion: null,
    maeBefore: null,
    nBefore: 0,
    maeAfter: null,
    nAfter: 0,
    detectS: null,
    recoverS: null,
    version: null,
    loopRunId: null,
    incidentId: null,
    rule: null,
    detectedBy: null,
    runState: null,
    resolvedBy: null,
    note: null,
    detectedAt: null,
    activeAt: null,
    alerts: [],
    otherRuns: [],
    steps: [],
    gate: null,
    wallSeconds: 0,
    ...p,
  };
}

export function recordedRun(): DemoResult {
  const phases: PhaseResult[] = [
    phase({
      phase: 1,
      name: 'baseline',
      drift: 'none: beige floor, 0–250 mm (initial model)',
      outcome: 'baseline',
      maeAfter: 3.69,
      nAfter: 3021,
      version: 1,
      activeAt: EPOCH,
      note: 'trained on 2000 generated frames in 10 s wall',
    }),
    phase({
      phase: 3,
      name: 'green floor',
      drift: 'covariate shift: the floor turns green (0–250 mm)',
      onsetAt: EPOCH + 95_000,
      onsetS: 95,
      previousVersion: 1,
      maeBefore: 48.1,
      nBefore: 4923,
      maeAfter: 4.9,
      nAfter: 1800,
      detectS: 19,
      recoverS: 171,
      version: 2,
      loopRunId: 'lr-0123456789',
      incidentId: 'in-01796571050699-968c9604',
      rule: 'default.live-error',
      runState: 'succeeded',
      resolvedBy: { loopRunId: 'lr-0123456789', version: 2, note: 'healed by distance v2 (loop run lr-0123456789)' },
      detectedAt: EPOCH + 114_000,
      activeAt: EPOCH + 266_000,
      alerts: [
        { rule: 'default.feature-drift', source: 'server', scope: 'version', version: 1, afterOnsetS: 4, value: 0.4 },
        { rule: 'default.live-error', source: 'server', scope: 'version', version: 1, afterOnsetS: 19, value: 4.5 },
      ],
      steps: [
        step('trigger', 114, 0, 'incident in-01796571050699-968c9604 (default.live-error)'),
        step('data', 114, 21, 'dataset ds-…: 712 recent samples of every device + 305 from ds-…'),
        step('train', 135, 33, 'best run tj-…-0: validation MAE 4.10'),
        step('gate', 168, 12, 'challenger MAE 4.6 mm on 71 recent holdout items is 0.09 × the champion’s 51.2 mm'),
        step('register', 180, 0, 'registered and signed as distance v2'),
        step('rollout', 180, 86, 'distance v2 is active on the target devices'),
        step('resolve', 266, 61, 'incident resolved by distance v2'),
      ],
      gate: {
        champion: { model: 'distance', version: 1 },
        challenger: { trainingRunId: 'tj-0123456789-0', modelSha256: 'ab'.repeat(32) },
        recent: {
          count: 71,
          champion: { mae: 51.2, rmse: 60.1 },
          challenger: { mae: 4.6, rmse: 6.2 },
          ratio: 0.09,
          passed: true,
        },
        original: {
          count: 198,
          champion: { mae: 3.3, rmse: 4.4 },
          challenger: { mae: 3.5, rmse: 4.6 },
          ratio: 1.06,
          passed: true,
        },
        minImprovement: 0.1,
        originalTolerance: 0.1,
        verdict: 'accepted',
        reasons: ['Challenger MAE 4.6 mm on 71 recent holdout items is 0.09 × the champion’s 51.2 mm.'],
        evaluatedAt: EPOCH + 180_000,
      },
    }),
    phase({
      phase: 5,
      name: 'beige → red',
      drift: 'covariate shift mid-run: the beige floor turns red from one frame to the next',
      world: 'red',
      onsetAt: EPOCH + 480_000,
      onsetS: 480,
      previousVersion: 2,
      maeBefore: 51.1,
      nBefore: 4341,
      maePreOnset: 3.9,
      maeAfter: 5.2,
      nAfter: 1750,
      detectS: 22,
      recoverS: 190,
      version: 3,
      loopRunId: 'lr-abcdef0123',
      incidentId: 'in-01796571990699-00aa11bb',
      rule: 'default.live-error',
      runState: 'succeeded',
      resolvedBy: { loopRunId: 'lr-abcdef0123', version: 3, note: 'healed by distance v3 (loop run lr-abcdef0123)' },
      detectedAt: EPOCH + 502_000,
      activeAt: EPOCH + 670_000,
      note: 'a <note> with markup & ampersands',
    }),
  ];
  const summary = summarize(phases, {
    phase1ValidationMae: 3.26,
    devices: 8,
    seed: 1,
    timeScale: 3,
    simSeconds: 790,
    wallSeconds: 330,
    frames: { predicted: 25_000, failed: 0, skipped: 40 },
  });
  const mae = [3.4, 3.8, 48.0, 60.2, 55.1, null, null, null, null, null, null, null, null, null];
  const v2 = [null, null, null, null, 5.1, 4.8, 4.6, 4.9, 30.2, 58.0, 40.0, null, null, null];
  const v3 = [null, null, null, null, null, null, null, null, null, null, 6.1, 5.2, 5.0, 5.1];
  return {
    phases,
    summary,
    timeline: {
      simEpoch: EPOCH,
      end: EPOCH + 790_000,
      series: [
        { metric: 'error.mae', version: 1, points: points(mae) },
        { metric: 'error.mae', version: 2, points: points(v2) },
        { metric: 'error.mae', version: 3, points: points(v3) },
        { metric: 'reference.out_of_range', version: 1, points: points(mae.map((v) => (v === null ? null : 0.001))) },
        { metric: 'output.out_of_range', version: 1, points: points(mae.map((v) => (v === null ? null : v / 100))) },
        { metric: 'feature.saturation.mean', version: 1, points: points(mae.map((v) => (v === null ? null : 0.13))) },
        { metric: 'feature.saturation.mean', version: 2, points: points(v2.map((v) => (v === null ? null : 0.3))) },
      ],
      frames: Array.from({ length: 79 }, (_, i) => ({
        t: i * 10,
        mae: i < 10 ? 3.6 : i < 27 ? 50 : i < 48 ? 4.8 : i < 67 ? 55 : 5.1,
        n: 320,
        version: i < 27 ? 1 : i < 67 ? 2 : 3,
      })),
      frameBucketSeconds: 10,
      histograms: [
        {
          phase: 3,
          quantity: 'output',
          before: histogram(1, 'output', [0, 0, 13, 140, 329, 315, 20, 0], [0, 0, 0, 5, 238, 178, 40, 1]),
          after: histogram(2, 'output', [0, 0, 2, 100, 300, 280, 30, 0], [0, 0, 1, 90, 280, 260, 30, 0]),
        },
        { phase: 3, quantity: 'reference', before: null, after: null },
      ],
      switches: [
        { at: 0, phase: 'baseline' },
        { at: 95, phase: 'green-floor' },
        { at: 420, phase: 'beige' },
        { at: 480, phase: 'red' },
      ],
    },
  };
}
