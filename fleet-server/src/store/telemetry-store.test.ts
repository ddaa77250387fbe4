import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TelemetryRecord } from '@edgeloop/protocol';
import { openFleetDb } from './fleet-db.js';
import { TelemetryStore } from './telemetry-store.js';

function store(t: { after: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-telemetry-'));
  const db = openFleetDb(join(dir, 'fleet.db'));
  t.after(() => { db.close(); rmSync(dir, { recursive: true, force: true }); });
  return new TelemetryStore(db);
}

const record = (seq: number): TelemetryRecord => ({
  seq, ts: 1_000 + seq, model: seq % 2 ? 'a' : 'b', version: 1 + (seq % 3), output: seq % 5 ? [seq / 4] : [1, -2.5, seq], prediction: seq % 7 ? seq / 4 : null,
  latencyMs: seq / 8, features: seq % 4 ? { f: seq, g: -seq / 3 } : {}, reference: seq % 3 ? seq + 0.5 : null,
  ...(seq % 6 ? {} : { requestId: `r${seq}` }), ...(seq % 9 ? {} : { shadow: true }),
});

test('large batches (several rows per statement) store every field and count only new records', (t) => {
  const telemetry = store(t);
  const first = Array.from({ length: 70 }, (_, i) => record(i + 1));
  assert.equal(telemetry.insertBatch('pi-1', 's1', first, 5, true), 70);
  // 40..110 overlaps 31 stored records, and the overlap falls inside the multi-row statements.
  const overlapping = Array.from({ length: 71 }, (_, i) => record(i + 40));
  assert.equal(telemetry.insertBatch('pi-1', 's1', overlapping, 6), 40);

  const rows = telemetry.query({ device: 'pi-1', order: 'oldest', limit: 1000 });
  assert.deepEqual(rows.map((r) => r.seq), Array.from({ length: 110 }, (_, i) => i + 1));
  for (const row of rows) {
    const want = record(row.seq);
    assert.deepEqual(
      { ts: row.ts, model: row.model, version: row.version, output: row.output, prediction: row.prediction, latencyMs: row.latencyMs, features: row.features, reference: row.reference, requestId: row.requestId, shadow: row.shadow },
      { ts: want.ts, model: want.model, version: want.version, output: want.output, prediction: want.prediction, latencyMs: want.latencyMs, features: want.features, reference: want.reference, requestId: want.requestId ?? null, shadow: want.shadow === true },
    );
    assert.equal(row.historical, row.seq <= 70, 'the historical flag is the first batch\'s');
    assert.equal(row.receivedAt, row.seq <= 70 ? 5 : 6, 're-sent records keep their first receive time');
  }
});

test('a transaction stores several batches atomically', (t) => {
  const telemetry = store(t);
  assert.throws(() => telemetry.transaction(() => {
    telemetry.insertBatch('pi-1', 's1', [record(1), record(2)]);
    throw new Error('the second batch failed');
  }), /second batch failed/);
  assert.equal(telemetry.count(), 0, 'nothing of a failed group is stored');
  assert.deepEqual(telemetry.transaction(() => [telemetry.insertBatch('pi-1', 's1', [record(1)]), telemetry.insertBatch('pi-2', 's1', [record(1)])]), [1, 1]);
  assert.equal(telemetry.count(), 2);
});
