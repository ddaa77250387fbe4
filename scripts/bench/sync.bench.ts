/**
 * @module bench/sync
 * agent.sync_rate: records/s from a full agent buffer into the fleet server's store over MQTT on
 * loopback, against inserting the same records straight into the server store.
 * agent.wire_bytes_per_record: MQTT payload bytes per record for a typical batch.
 */
import { join } from 'node:path';
import { encodeMessage, type TelemetryRecord } from '@edgeloop/protocol';
import { openAgentDb } from '../../agent/src/store/agent-db.js';
import { RecordBuffer, type NewRecord } from '../../agent/src/store/record-buffer.js';
import { openFleetDb } from '../../fleet-server/src/store/fleet-db.js';
import { TelemetryStore } from '../../fleet-server/src/store/telemetry-store.js';
import type { Bench } from './figure.js';
import { startHarness, until } from './harness.js';

const N = 50_000;
const newRecord = (i: number): NewRecord => ({
  ts: 1_795_000_000_000 + i, model: 'distance', version: 1, output: [150 + (i % 100)], prediction: 150 + (i % 100), latencyMs: 2.5,
  reference: 148 + (i % 97),
  features: { mean_r: 0.41, mean_g: 0.39, mean_b: 0.36, brightness: 0.39, saturation: 0.12, contrast: 0.22 },
});

export const syncBench: Bench = {
  name: 'agent.sync_rate',
  async run(progress) {
    const h = await startHarness();
    try {
      progress(`filling an agent buffer with ${N} records`);
      const deviceId = 'bench-sync';
      const db = openAgentDb(join(h.dir, deviceId, 'agent.db'));
      const buffer = new RecordBuffer(db);
      for (let i = 0; i < N; i += 1000) await Promise.all(Array.from({ length: 1000 }, (_, j) => buffer.append(newRecord(i + j))));
      const sample = buffer.readAfter(0, 500);
      db.close();

      progress('baseline: direct inserts into the server store');
      const baseDb = openFleetDb(join(h.dir, 'baseline.db'));
      const store = new TelemetryStore(baseDb);
      const all: TelemetryRecord[] = Array.from({ length: N }, (_, i) => ({ ...newRecord(i), seq: i + 1 }));
      let t0 = performance.now();
      for (let i = 0; i < N; i += 500) store.insertBatch('base', 's', all.slice(i, i + 500));
      const baseRate = N / ((performance.now() - t0) / 1000);
      baseDb.close();

      progress('agent → MQTT → fleet store');
      t0 = performance.now();
      await h.startAgent(deviceId);
      await until('all records stored', () => h.server.telemetry.count(deviceId) >= N, 300_000);
      const rate = N / ((performance.now() - t0) / 1000);

      const wire = encodeMessage({ v: 1, stream: 's0123456789abcdef', records: sample, backlog: 0 }).length / sample.length;
      return [
        { name: 'agent.sync_rate', value: rate, unit: 'records/s', baseline: baseRate, note: 'includes agent start-up; baseline = direct batched inserts into the server store' },
        { name: 'agent.wire_bytes_per_record', value: wire, unit: 'bytes', baseline: null, note: 'JSON batches of 500 (scalar output, reference, 6 features)' },
      ];
    } finally {
      await h.close();
    }
  },
};
