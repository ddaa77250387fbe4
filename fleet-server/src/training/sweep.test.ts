/**
 * Sweep files: runs and grids expanded in a stable order with seeds, every unknown or
 * out-of-range parameter named with its run before anything runs, and the best run by metric.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TrainerDescription } from '@edgeloop/protocol';
import { sweepSchema } from '@edgeloop/protocol/rest';
import { bestRun, expandSweep, metricValue, resolveSweep } from './sweep.js';

const DESCRIPTION: TrainerDescription = {
  name: 'fixture',
  params: {
    learningRate: { type: 'number', default: 0.1, min: 0, max: 1 },
    hidden: { type: 'integer', default: 16, min: 1 },
  },
};

const plan = (sweep: unknown) => {
  const parsed = sweepSchema.parse(sweep);
  const r = expandSweep(parsed);
  if (!r.ok) throw new Error(r.error);
  return r.plan;
};

test('runs come first, then the grid with its last key varying fastest, each over base with a seed', () => {
  const p = plan({
    seed: 7,
    base: { hidden: 8 },
    runs: [{ learningRate: 0.5, seed: 3 }],
    grid: { learningRate: [0.1, 0.2], hidden: [16, 32] },
  });
  assert.deepEqual(p.runs, [
    { hidden: 8, learningRate: 0.5, seed: 3 },
    { hidden: 16, learningRate: 0.1, seed: 7 },
    { hidden: 32, learningRate: 0.1, seed: 7 },
    { hidden: 16, learningRate: 0.2, seed: 7 },
    { hidden: 32, learningRate: 0.2, seed: 7 },
  ]);
  assert.deepEqual([p.parallel, p.metric, p.goal], [1, 'validation.mae', 'min']);
  assert.deepEqual(plan({ base: {} }).runs, [{ seed: 1 }]);
});

test('a sweep that is not one is refused by its schema, a huge grid by its size', () => {
  assert.equal(sweepSchema.safeParse({ seed: 1 }).success, false);
  assert.equal(sweepSchema.safeParse({ runs: [{}], metric: 'accuracy' }).success, false);
  assert.equal(sweepSchema.safeParse({ runs: [{}], parallel: 100 }).success, false);
  const values = Array.from({ length: 10 }, (_, i) => i);
  const r = expandSweep(sweepSchema.parse({ grid: { a: values, b: values } }));
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.error : '', /makes 100 runs \(grid a×10 · b×10\); at most 64/);
});

test('unknown and out-of-range parameters are named with their run and the known ones', () => {
  const r = resolveSweep(plan({ runs: [{ learningRate: 0.2 }, { learningrate: 0.2 }, { hidden: 0 }] }), DESCRIPTION);
  assert.equal(r.ok, false);
  assert.deepEqual(!r.ok && r.errors, [
    'run 2: unknown parameter "learningrate" for trainer fixture (it takes: learningRate, hidden)',
    'run 3: hidden must be ≥ 1, got 0',
  ]);
  const ok = resolveSweep(plan({ runs: [{ learningRate: 0.2 }] }), DESCRIPTION);
  assert.deepEqual(ok.ok && ok.runs, [{ learningRate: 0.2, seed: 1, hidden: 16 }]);
});

test('the best run by metric and goal; runs without the metric never win', () => {
  const m = (mae: number, extra?: number) => ({
    validation: { mae, rmse: mae * 2, count: 10 },
    ...(extra === undefined ? {} : { extra: { score: extra } }),
  });
  const runs = [
    { id: 'a', metrics: m(5, 1) },
    { id: 'b', metrics: m(3) },
    { id: 'c', metrics: null },
    { id: 'd', metrics: m(3, 9) },
  ];
  assert.equal(bestRun(runs, 'validation.mae', 'min'), 'b');
  assert.equal(bestRun(runs, 'validation.rmse', 'max'), 'a');
  assert.equal(bestRun(runs, 'extra.score', 'max'), 'd');
  assert.equal(bestRun(runs, 'holdout.mae', 'min'), undefined);
  assert.equal(metricValue(m(2), 'validation.rmse'), 4);
});
