/** Housekeeping on a real SQLite store: compaction keeps sums, retention removes old raw records and old rollups only. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { DAY_MS, type TelemetryRecord } from '@edgeloop/protocol';
import { openFleetStore } from '../store/open-fleet-store.js';
import { RollupHousekeeping } from './rollup-housekeeping.js';

const rec = (seq: number, ts: number): TelemetryRecord => ({
  seq,
  ts,
  model: 'm',
  version: 1,
  output: [1],
  prediction: 1,
  reference: 2,
  latencyMs: 1,
  features: { f: seq },
});

test('retention removes raw records received before the cutoff in batches, and rollups past theirs; the rest stays', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-housekeeping-'));
  const store = await openFleetStore({ sqlitePath: join(dir, 'fleet.db') });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const now = 500 * DAY_MS;
  // 12,000 records received 40 days ago (three delete batches), 10 received yesterday.
  const old = Array.from({ length: 12_000 }, (_, i) => rec(i + 1, now - 450 * DAY_MS));
  for (let i = 0; i < old.length; i += 2000)
    await store.telemetry.storeBatches(
      [{ deviceId: 'd', stream: 's', records: old.slice(i, i + 2000), historical: false }],
      now - 40 * DAY_MS,
    );
  await store.telemetry.storeBatches(
    [
      {
        deviceId: 'd',
        stream: 's',
        records: Array.from({ length: 10 }, (_, i) => rec(20_000 + i, now - DAY_MS)),
        historical: false,
      },
    ],
    now - DAY_MS,
  );
  const housekeeping = new RollupHousekeeping(
    store,
    { rollupRetentionDays: 400, telemetryRetentionDays: 30 },
    pino({ level: 'silent' }),
  );
  const pass = await housekeeping.runOnce(now);
  assert.equal(pass.telemetryRemoved, 12_000);
  assert.equal(await store.telemetry.count(), 10);
  assert.ok(pass.rollupsRemoved > 0, 'the 450-day-old windows are past 400 days');
  const q = { model: 'm', version: 1, role: 'serving' as const, scopes: ['fleet' as const] };
  assert.equal((await store.rollups.sum(q)).count, 10, "yesterday's rollups stay, compacted");
  assert.ok(pass.compaction.rowsMerged >= 0);
});
