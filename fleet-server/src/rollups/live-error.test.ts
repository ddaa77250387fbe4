/**
 * Live error in one place: the rollout gate's arms and the live-error query (REST route and
 * `edgeloop live-error`) read the same rollups and agree exactly; PSI and re-binning of output
 * histograms on closed-form cases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rolloutParametersSchema } from '@edgeloop/protocol/rest';
import { openKit, seedFleet } from '../rollouts/rollout-test-kit.js';
import { psi as psiOfCounts } from '@edgeloop/protocol';
import { errorSummary, liveErrorFromRollups, rebin } from './live-error.js';

test("the rollout gate's live error and the live-error query give identical numbers for the same devices and window", async (t) => {
  const k = await openKit();
  t.after(() => k.close());
  const ids = await seedFleet(k, 3);
  for (const id of ids) await k.records(id, 1, 30, 4);
  const r = await k.engine.create(
    {
      model: 'distance',
      version: 2,
      strategy: 'staged',
      target: { all: true },
      parameters: rolloutParametersSchema.parse({ waves: [{ percent: 100 }], waitMs: 60_000 }),
    },
    'op',
  );
  await k.tick();
  for (const id of ids) await k.report(id, 2, 'active');
  await k.records(ids[0]!, 2, 25, 2.5);
  await k.records(ids[1]!, 2, 15, 1.5);

  const rollout = (await k.engine.store.get(r.id))!;
  const devs = await k.engine.store.devices(r.id);
  const arms = await k.engine.queries.arms(
    {
      rolloutId: r.id,
      model: 'distance',
      candidate: 2,
      baselineVersion: 1,
      createdAt: rollout.createdAt,
      judgedSince: rollout.judgedSince,
      lookbackMs: rollout.params.liveError.baselineLookbackMs,
      shadow: false,
    },
    devs,
  );
  const [cli] = await liveErrorFromRollups(k.store, {
    model: 'distance',
    version: 2,
    shadow: false,
    devices: ids,
    since: rollout.judgedSince,
  });
  assert.equal(arms.candidate.records, 40);
  assert.equal(cli!.n, arms.candidate.records);
  assert.equal(cli!.mae, arms.candidate.mae);
  assert.ok(Math.abs(arms.candidate.mae! - (25 * 2.5 + 15 * 1.5) / 40) < 1e-12);
  assert.equal(arms.baseline.records, 90);
  assert.ok(Math.abs(arms.baseline.mae! - 4) < 1e-12);

  // The fleet-wide figure is the same sum over the fleet's rollups.
  const [fleet] = await liveErrorFromRollups(k.store, { model: 'distance', version: 2, shadow: false });
  assert.equal(fleet!.n, 40);
  assert.ok(Math.abs(fleet!.mae! - cli!.mae!) < 1e-12);
  // Nothing for a version/role with no records: an explicit zero.
  assert.deepEqual(await liveErrorFromRollups(k.store, { model: 'distance', version: 2, shadow: true }), [
    { model: 'distance', version: 2, shadow: true, n: 0, mae: null, rmse: null },
  ]);
});

test('errorSummary: MAE, RMSE and bias from the error sums', () => {
  const r = {
    count: 2,
    features: {},
    output: { n: 0, sum: 0, sumSq: 0, min: Infinity, max: -Infinity, bins: {} },
    reference: { n: 0, sum: 0, sumSq: 0, min: Infinity, max: -Infinity, bins: {} },
    error: { n: 2, sum: -2, sumSq: 10, min: -3, max: 1, bins: {}, absSum: 4 },
  };
  assert.deepEqual(errorSummary(r), { n: 2, mae: 2, rmse: Math.sqrt(5), bias: -1 });
});

test('PSI of count histograms: 0 for equal proportions, closed form for a shifted pair, null when empty', () => {
  assert.equal(psiOfCounts([10, 20, 30], [1, 2, 3]), 0);
  const expected = (0.5 - 0.25) * Math.log(0.5 / 0.25) + (0.5 - 0.75) * Math.log(0.5 / 0.75);
  assert.ok(Math.abs(psiOfCounts([25, 75], [50, 50])! - expected) < 1e-12);
  assert.equal(psiOfCounts([0, 0], [1, 1]), null);
  // An empty bin counts as 1e-4 of the total, not zero.
  assert.ok(psiOfCounts([100, 0], [50, 50])! > 3);
});

test('rebin keeps equal edges as they are and spreads counts by overlap onto other edges', () => {
  assert.deepEqual(rebin({ '0': 2, '2': 5 }, [0, 1, 2, 3], [0, 1, 2, 3]), [2, 0, 5]);
  // [0, 2) and [2, 4) onto [0, 1, 2, 3, 4]: halves.
  assert.deepEqual(rebin({ '0': 4, '1': 2 }, [0, 2, 4], [0, 1, 2, 3, 4]), [2, 2, 1, 1]);
  // Mass beyond the target range lands in its end bins; the total is kept.
  const moved = rebin({ '0': 10 }, [-2, 2], [0, 1, 2]);
  assert.deepEqual(moved, [7.5, 2.5]);
});
