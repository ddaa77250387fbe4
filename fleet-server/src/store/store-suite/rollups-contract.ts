/**
 * @module store/store-suite/rollups-contract
 * The store contract for monitoring rollups: deltas add up per key, reads select by scope and
 * window overlap, compaction and downsampling keep every sum while reducing rows, retention
 * removes whole windows by their end.
 */
import assert from 'node:assert/strict';
import {
  binSpecFor,
  DAY_MS,
  emptyRollup,
  foldRecord,
  HOUR_MS,
  MINUTE_MS,
  type Rollup,
  type ScopeKey,
} from '@edgeloop/protocol';
import type { RollupDelta } from '../fleet-store.js';
import type { WithStore } from './fixtures.js';

const spec = binSpecFor(null);

function rollupOf(values: readonly number[], reference = 0): Rollup {
  const r = emptyRollup();
  for (const v of values) foldRecord(r, spec, { features: { f: v }, prediction: v, reference });
  return r;
}

const delta = (scope: ScopeKey, windowStart: number, values: readonly number[], windowMs = MINUTE_MS): RollupDelta => ({
  model: 'm',
  version: 1,
  role: 'serving',
  scope,
  windowStart,
  windowMs,
  rollup: rollupOf(values),
});

const q = { model: 'm', version: 1, role: 'serving' as const };

export function rollupsContract(withStore: WithStore): void {
  withStore('rollups: deltas of a key add up; reads select scopes and overlapping windows', async (s) => {
    await s.rollups.add([delta('fleet', 0, [1, 2]), delta('fleet', 0, [3]), delta('fleet', MINUTE_MS, [4])]);
    await s.rollups.add([
      delta('device:a', 0, [1, 2], 10 * MINUTE_MS),
      delta('device:b', 0, [3, 4], 10 * MINUTE_MS),
      delta('group:g', 0, [5]),
      { ...delta('fleet', 0, [100]), version: 2 },
      { ...delta('fleet', 0, [100]), role: 'shadow' },
    ]);

    const fleet = await s.rollups.windows({ ...q, scopes: ['fleet'] });
    assert.deepEqual(
      fleet.map((w) => [w.scope, w.windowStart, w.windowMs, w.rollup.count, w.rollup.output.sum]),
      [
        ['fleet', 0, MINUTE_MS, 3, 6],
        ['fleet', MINUTE_MS, MINUTE_MS, 1, 4],
      ],
    );
    const sum = await s.rollups.sum({ ...q, scopes: ['fleet'] });
    assert.equal(sum.count, 4);
    assert.equal(sum.error.absSum, 10);
    assert.equal(sum.features.f!.max, 4);

    // Overlap: [30 s, 60 s) touches only the first minute; [60 s, ∞) only the second.
    assert.equal((await s.rollups.sum({ ...q, scopes: ['fleet'], from: 30_000, to: MINUTE_MS })).count, 3);
    assert.equal((await s.rollups.sum({ ...q, scopes: ['fleet'], from: MINUTE_MS })).count, 1);
    assert.equal((await s.rollups.sum({ ...q, scopes: [] })).count, 0, 'an empty scope list selects nothing');

    const devices = await s.rollups.sumPerScope({ ...q, scopePrefix: 'device:' });
    assert.deepEqual(
      [...devices].map(([scope, r]) => [scope, r.count]),
      [
        ['device:a', 2],
        ['device:b', 2],
      ],
    );
    assert.equal((await s.rollups.sum({ ...q, scopePrefix: 'group:' })).count, 1);
    assert.equal((await s.rollups.sum({ ...q, version: 2, scopes: ['fleet'] })).count, 1);
    assert.equal((await s.rollups.sum({ ...q, role: 'shadow', scopes: ['fleet'] })).count, 1);
  });

  withStore('rollups: compaction merges deltas without changing any sum; downsampling by age', async (s) => {
    const now = 100 * DAY_MS;
    const recent = now - HOUR_MS;
    const old = now - 10 * DAY_MS; // past the fleet's 7-day step: minute windows become hours
    const ancient = now - 120 * DAY_MS; // past the 90-day step: days
    const deltas: RollupDelta[] = [];
    for (let i = 0; i < 5; i++) {
      deltas.push(delta('fleet', recent - (recent % MINUTE_MS), [i]));
      deltas.push(delta('fleet', old - (old % HOUR_MS) + i * MINUTE_MS, [i + 10]));
      deltas.push(delta('fleet', ancient - (ancient % DAY_MS) + i * HOUR_MS, [i + 20], HOUR_MS));
      deltas.push(delta('device:a', recent - (recent % (10 * MINUTE_MS)), [i], 10 * MINUTE_MS));
    }
    await s.rollups.add(deltas);
    const before = await s.rollups.sum({ ...q, scopePrefix: 'fleet' });
    const beforeDevice = await s.rollups.sum({ ...q, scopes: ['device:a'] });

    const result = await s.rollups.compact(now);
    assert.ok(result.rowsMerged > 0);
    assert.equal(result.windowsDownsampled, 10, 'five old minute windows and five ancient hour windows');

    const after = await s.rollups.windows({ ...q, scopePrefix: 'fleet' });
    assert.deepEqual(
      after.map((w) => [w.windowMs, w.rollup.count]),
      [
        [DAY_MS, 5],
        [HOUR_MS, 5],
        [MINUTE_MS, 5],
      ],
    );
    const sum = await s.rollups.sum({ ...q, scopePrefix: 'fleet' });
    assert.equal(sum.count, before.count);
    assert.deepEqual(sum.output.bins, before.output.bins);
    assert.ok(Math.abs(sum.output.sum - before.output.sum) < 1e-9);
    assert.deepEqual(await s.rollups.sum({ ...q, scopes: ['device:a'] }), beforeDevice);

    // Compacting again changes nothing.
    assert.deepEqual(await s.rollups.compact(now), { rowsMerged: 0, windowsDownsampled: 0 });
  });

  withStore('rollups: retention removes windows that ended before the cutoff; bytes counts storage', async (s) => {
    await s.rollups.add([delta('fleet', 0, [1]), delta('fleet', MINUTE_MS, [2]), delta('fleet', 2 * MINUTE_MS, [3])]);
    assert.ok((await s.rollups.bytes()) > 0);
    // The second window ends at 2 min: removed; the third ends later: kept.
    assert.equal(await s.rollups.deleteOlderThan(2 * MINUTE_MS + 1), 2);
    assert.deepEqual(
      (await s.rollups.windows({ ...q, scopes: ['fleet'] })).map((w) => w.windowStart),
      [2 * MINUTE_MS],
    );
  });
}
