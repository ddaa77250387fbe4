/**
 * driftOnset: windows merged into stretches of at least MIN_DRIFT_SAMPLES records, the onset the
 * start of the newest unbroken run of drifted stretches.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyRollup, MIN_DRIFT_SAMPLES, type Rollup } from '@edgeloop/protocol';
import type { RollupWindow } from '../store/rollup-store-types.js';
import { driftOnset } from './drift-onset.js';

/** A minute window of `count` records, `shifted` of them marked as drifted values. */
function window(minute: number, count: number, shifted = 0): RollupWindow {
  const rollup = emptyRollup();
  rollup.count = count;
  rollup.output.n = shifted;
  return { scope: 'fleet', windowStart: minute * 60_000, windowMs: 60_000, rollup };
}

/** A stretch drifted when more than a quarter of its records are marked. */
const judge = (r: Rollup) => r.output.n * 4 > r.count;

test('the onset is the start of the newest run of drifted stretches', () => {
  const half = MIN_DRIFT_SAMPLES / 2;
  const windows = [
    window(0, half, half), // drifted, then broken by a quiet stretch
    window(1, half, half),
    window(2, half),
    window(3, half),
    window(4, half, half),
    window(5, half, half),
    window(6, half, half),
    window(7, half, half),
  ];
  assert.equal(driftOnset(windows, judge), 4 * 60_000);
});

test('a trailing stretch too small for a verdict joins the one before it', () => {
  const w = [window(0, MIN_DRIFT_SAMPLES), window(1, MIN_DRIFT_SAMPLES, MIN_DRIFT_SAMPLES), window(2, 10)];
  assert.equal(driftOnset(w, judge), 60_000);
  // Alone, the small last window would be judged quiet and hide the drift.
  assert.equal(judge(w[2]!.rollup), false);
});

test('no onset when the newest stretch is quiet, or there are no windows', () => {
  assert.equal(
    driftOnset([window(0, MIN_DRIFT_SAMPLES, MIN_DRIFT_SAMPLES), window(1, MIN_DRIFT_SAMPLES)], judge),
    null,
  );
  assert.equal(driftOnset([], judge), null);
  // Fewer records than a stretch in all: judged as one.
  assert.equal(driftOnset([window(5, 3, 3)], judge), 5 * 60_000);
});
