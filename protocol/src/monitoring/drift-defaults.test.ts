import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  defaultDriftMethod,
  driftVerdict,
  MIN_DRIFT_SAMPLES,
  psiLevel,
  SMALL_WINDOW_SAMPLES,
} from './drift-defaults.js';
import { ks, psi, wassersteinNormalized } from './metrics.js';

const EDGES = Array.from({ length: 11 }, (_, i) => i);
/** A bell on 10 bins, scaled to about `total` values, its peak at `centre`. */
function bell(total: number, centre: number): number[] {
  const raw = Array.from({ length: 10 }, (_, i) => Math.exp(-(((i + 0.5 - centre) / 2) ** 2)));
  const s = raw.reduce((a, b) => a + b, 0);
  return raw.map((v) => Math.round((v / s) * total));
}

test('below the minimum sample size on either side there is no verdict', () => {
  const few = bell(MIN_DRIFT_SAMPLES - 10, 8);
  const v = driftVerdict(bell(5_000, 3), few, EDGES);
  assert.equal(v.drifted, null);
  assert.equal(v.value, null);
  assert.equal(
    v.n,
    few.reduce((a, b) => a + b, 0),
  );
  assert.equal(driftVerdict(bell(50, 3), bell(500, 8), EDGES).drifted, null);
  // The caller may lower it, e.g. for a device's own short windows.
  assert.equal(driftVerdict(bell(5_000, 3), few, EDGES, { minSamples: 10 }).drifted, true);
});

test('small windows are judged by KS at p < 0.05, larger ones by normalised Wasserstein ≥ 0.1', () => {
  const ref = bell(5_000, 5);
  const small = driftVerdict(ref, bell(400, 6), EDGES);
  assert.equal(small.method, 'ks');
  assert.equal(small.threshold, 0.05);
  assert.equal(small.value, ks(ref, bell(400, 6))!.pValue);
  assert.equal(small.drifted, true);
  assert.equal(driftVerdict(ref, bell(400, 5), EDGES).drifted, false);

  const big = driftVerdict(ref, bell(20_000, 5.4), EDGES);
  assert.equal(big.method, 'wasserstein');
  assert.equal(big.threshold, 0.1);
  assert.equal(big.value, wassersteinNormalized(ref, bell(20_000, 5.4), EDGES));
  assert.equal(big.drifted, true);
  // A tiny shift on a big window: KS would call it (p ≪ 0.05), the distance does not.
  const tiny = bell(20_000, 5.1);
  assert.ok(ks(ref, tiny)!.pValue < 0.05);
  assert.equal(driftVerdict(ref, tiny, EDGES).drifted, false);
});

test('categorical values use chi-square on small windows and Jensen–Shannon on large ones', () => {
  assert.equal(defaultDriftMethod(SMALL_WINDOW_SAMPLES, true), 'chi2');
  assert.equal(defaultDriftMethod(SMALL_WINDOW_SAMPLES + 1, true), 'js');
  assert.equal(defaultDriftMethod(SMALL_WINDOW_SAMPLES), 'ks');
  assert.equal(defaultDriftMethod(SMALL_WINDOW_SAMPLES + 1), 'wasserstein');
  const classes = [-0.5, 0.5, 1.5, 2.5];
  const v = driftVerdict([400, 400, 200], [100, 100, 300], classes, { categorical: true });
  assert.equal(v.method, 'chi2');
  assert.equal(v.drifted, true);
  const js = driftVerdict([4000, 4000, 2000], [1000, 1000, 3000], classes, { categorical: true });
  assert.equal(js.method, 'js');
  assert.equal(js.drifted, true);
});

test('PSI: drifted from 0.1, critical from 0.25', () => {
  const ref = bell(5_000, 5);
  const verdict = (centre: number) => driftVerdict(ref, bell(5_000, centre), EDGES, { method: 'psi' });
  assert.equal(verdict(5.5).value, psi(ref, bell(5_000, 5.5)));
  assert.equal(verdict(5.5).threshold, 0.1);
  assert.equal(verdict(5.3).drifted, false); // PSI ≈ 0.045
  assert.equal(verdict(5.5).drifted, true); // ≈ 0.12
  assert.equal(psiLevel(verdict(5.3).value!), 'none');
  assert.equal(psiLevel(verdict(5.5).value!), 'warn');
  assert.equal(psiLevel(verdict(6).value!), 'critical'); // ≈ 0.49
  assert.equal(psiLevel(0.1), 'warn');
  assert.equal(psiLevel(0.25), 'critical');
});

test('a configured threshold replaces the default', () => {
  const ref = bell(5_000, 5);
  const live = bell(20_000, 5.4);
  const loose = driftVerdict(ref, live, EDGES, { threshold: 10 });
  assert.equal(loose.threshold, 10);
  assert.equal(loose.drifted, false);
});
