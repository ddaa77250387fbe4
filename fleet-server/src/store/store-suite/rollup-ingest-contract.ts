/**
 * @module store/store-suite/rollup-ingest-contract
 * The store contract for folding telemetry into rollups as it is stored: each committed record
 * counts exactly once (re-sends never), under its device, its group and the fleet, in the
 * windows of its own timestamp; late reference values count once, whichever of value and record
 * arrives first.
 */
import assert from 'node:assert/strict';
import { MINUTE_MS, type TelemetryRecord } from '@edgeloop/protocol';
import type { FleetStore } from '../fleet-store.js';
import type { WithStore } from './fixtures.js';

const rec = (seq: number, extra: Partial<TelemetryRecord> = {}): TelemetryRecord => ({
  seq,
  ts: 10 * MINUTE_MS + seq * 1000,
  model: 'm',
  version: 1,
  output: [seq],
  prediction: seq,
  latencyMs: 1,
  features: { f: seq },
  ...extra,
});

const q = { model: 'm', version: 1, role: 'serving' as const };

async function counts(s: FleetStore) {
  const per = await s.rollups.sumPerScope({ ...q });
  return Object.fromEntries([...per].map(([scope, r]) => [scope, [r.count, r.reference.n, r.error.n]]));
}

export function rollupIngestContract(withStore: WithStore): void {
  withStore('rollup ingest: new records fold once per scope, re-sends never', async (s) => {
    await s.devices.ensure('d1', 1);
    await s.devices.setLabels('d1', { group: 'lab' });
    await s.telemetry.storeBatches(
      [
        { deviceId: 'd1', stream: 's', records: [rec(1), rec(2, { reference: 2.5 })], historical: false },
        { deviceId: 'd2', stream: 's', records: [rec(1), rec(2, { shadow: true })], historical: false },
      ],
      100,
    );
    // A re-send of everything plus one new record, and a batch with a seq twice.
    await s.telemetry.storeBatches(
      [
        { deviceId: 'd1', stream: 's', records: [rec(1), rec(2, { reference: 2.5 }), rec(3)], historical: false },
        { deviceId: 'd2', stream: 's', records: [rec(4), rec(4)], historical: false },
      ],
      200,
    );
    await s.telemetry.insertBatch('d1', 's', [rec(3), rec(5)], 300);
    assert.deepEqual(await counts(s), {
      'device:d1': [4, 1, 1],
      'device:d2': [2, 0, 0],
      fleet: [6, 1, 1],
      'group:lab': [4, 1, 1],
    });
    const shadow = await s.rollups.sum({ ...q, role: 'shadow', scopes: ['device:d2'] });
    assert.equal(shadow.count, 1);

    // Device windows are 10 minutes, fleet windows one minute, both by the record's own time.
    const fleet = await s.rollups.windows({ ...q, scopes: ['fleet'] });
    assert.deepEqual(
      fleet.map((w) => [w.windowStart, w.windowMs]),
      [[10 * MINUTE_MS, MINUTE_MS]],
    );
    const device = await s.rollups.windows({ ...q, scopes: ['device:d1'] });
    assert.deepEqual(
      device.map((w) => [w.windowStart, w.windowMs]),
      [[10 * MINUTE_MS, 10 * MINUTE_MS]],
    );
    // The rows behind those sums are the same after compaction.
    await s.rollups.compact(11 * MINUTE_MS);
    assert.equal((await s.rollups.sum({ ...q, scopes: ['fleet'] })).count, 6);
  });

  withStore('rollup ingest: a late reference value counts once, before or after its record', async (s) => {
    await s.telemetry.storeBatches(
      [{ deviceId: 'd1', stream: 's', records: [rec(1), rec(2)], historical: false }],
      100,
    );
    // After: record 1 gets its value; sending it again (or another one) changes no rollup.
    await s.telemetry.updateReferences('d1', 's', [{ seq: 1, reference: 0.5 }], 110);
    await s.telemetry.updateReferences('d1', 's', [{ seq: 1, reference: 0.5 }], 120);
    await s.telemetry.updateReferences('d1', 's', [{ seq: 1, reference: 0.7 }], 130);
    // Before: the value for record 3 waits and is taken when the record arrives.
    await s.telemetry.updateReferences('d1', 's', [{ seq: 3, reference: 2 }], 140);
    await s.telemetry.storeBatches([{ deviceId: 'd1', stream: 's', records: [rec(3)], historical: false }], 150);
    const r = await s.rollups.sum({ ...q, scopes: ['fleet'] });
    assert.equal(r.count, 3);
    assert.equal(r.reference.n, 2);
    assert.equal(r.error.n, 2);
    assert.ok(Math.abs(r.error.absSum - (0.5 + 1)) < 1e-9);
    assert.deepEqual(await counts(s), { 'device:d1': [3, 2, 2], fleet: [3, 2, 2] });
  });
}
