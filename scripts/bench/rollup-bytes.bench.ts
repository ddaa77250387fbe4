/**
 * @module bench/rollup-bytes
 * fleet.rollup_bytes_per_record: database bytes the monitoring rollups add per ingested record,
 * over a long simulated run — 100 devices in 4 groups, one record a second each with 10 features
 * and a reference value on a third of them, with simulated timestamps spanning several hours —
 * stored through the ingest's group commit (storeBatches) into a SQLite fleet store, then
 * compacted as housekeeping would. Baseline: the raw telemetry table's bytes per record in the
 * same store (both as SQLite's dbstat counts pages, indexes included).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFleetStore } from '@edgeloop/fleet-server/testing';
import type { TelemetryRecord } from '@edgeloop/protocol';
import type { Bench } from './figure.js';

const DEVICES = 100;
const FEATURES = 10;
const HOURS = Number(process.env.EDGELOOP_BENCH_ROLLUP_HOURS ?? 2);
/** Each device sends what it made in the last 30 s as one batch (an agent syncing twice a minute). */
const BATCH_SECONDS = 30;
const T0 = 1_795_000_000_000 - (1_795_000_000_000 % 3_600_000);

function record(device: number, second: number): TelemetryRecord {
  const features: Record<string, number> = {};
  for (let f = 0; f < FEATURES; f++)
    features[`f${f}`] =
      0.5 + 0.2 * Math.sin(second / 600 + f + device / 7) + 0.05 * Math.sin(second * 12.9898 + f * 78.233);
  const prediction = 150 + 40 * Math.sin(second / 900 + device) + 3 * Math.sin(second * 4.1);
  return {
    seq: second + 1,
    ts: T0 + second * 1000,
    model: 'distance',
    version: 1,
    output: [prediction],
    prediction,
    latencyMs: 2.5,
    features,
    ...(second % 3 === 0 ? { reference: prediction + 2 * Math.sin(second * 7.7) } : {}),
  };
}

export const rollupBytesBench: Bench = {
  name: 'fleet.rollup_bytes_per_record',
  async run(progress) {
    const dir = mkdtempSync(join(tmpdir(), 'edgeloop-rollup-bytes-'));
    try {
      const file = join(dir, 'fleet.db');
      const store = await openFleetStore({ sqlitePath: file });
      for (let d = 0; d < DEVICES; d++) {
        await store.devices.ensure(`dev-${d}`, T0);
        await store.devices.setLabels(`dev-${d}`, { group: `g${d % 4}` });
      }
      const seconds = HOURS * 3600;
      progress(`${DEVICES} devices × ${seconds} simulated seconds, batches of ${BATCH_SECONDS} s`);
      let records = 0;
      for (let s = 0; s < seconds; s += BATCH_SECONDS) {
        const batches = Array.from({ length: DEVICES }, (_, d) => ({
          deviceId: `dev-${d}`,
          stream: 's',
          historical: false,
          records: Array.from({ length: BATCH_SECONDS }, (_, i) => record(d, s + i)),
        }));
        await store.telemetry.storeBatches(batches, T0 + s * 1000);
        records += DEVICES * BATCH_SECONDS;
        // Housekeeping merges deltas every minute of real time; here every simulated 10 minutes.
        if ((s + BATCH_SECONDS) % 600 === 0) await store.rollups.compact(T0 + s * 1000);
      }
      await store.rollups.compact(T0 + seconds * 1000);
      const rollupBytes = await store.rollups.bytes();
      const rawBytes = await store.telemetry.bytes();
      await store.close();
      return [
        {
          name: 'fleet.rollup_bytes_per_record',
          value: rollupBytes / records,
          unit: 'bytes',
          baseline: rawBytes / records,
          note: `${records} records (${DEVICES} devices, ${FEATURES} features, ${HOURS} simulated hours), rollups compacted; baseline = raw telemetry bytes per record (SQLite pages incl. indexes); target ≤ 10 % of it`,
        },
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
