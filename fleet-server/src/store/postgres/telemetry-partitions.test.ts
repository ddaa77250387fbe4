import { test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import type { TelemetryRecord } from '@edgeloop/protocol';
import { migratePostgres } from './migrations.js';
import {
  checkPartitionPolicy,
  DAY_MS,
  listTelemetryPartitions,
  maintainTelemetryPartitions,
  PARTITION_LOCK_KEY,
  partitionName,
  startPartitionMaintenance,
  type PartitionPass,
} from './telemetry-partitions.js';
import { insertTelemetry, pgRunner } from './telemetry-writer.js';
import { openTestPool, testPostgresSkip } from './test-postgres.js';

const skip = await testPostgresSkip();
const DAY0 = Date.UTC(2026, 2, 1);
const NOW = DAY0 + 13 * 3_600_000;

async function migrated(t: Parameters<typeof openTestPool>[0]): Promise<pg.Pool> {
  const { pool } = await openTestPool(t);
  await migratePostgres(pool);
  return pool;
}

const record = (seq: number, ts: number): TelemetryRecord => ({
  seq,
  ts,
  model: 'm',
  version: 1,
  output: [seq],
  prediction: seq,
  latencyMs: 1,
  features: {},
});

async function where(pool: pg.Pool, seq: number): Promise<string[]> {
  const { rows } = await pool.query<{ p: string }>(
    'SELECT tableoid::regclass::text AS p FROM telemetry WHERE seq = $1',
    [seq],
  );
  return rows.map((r) => r.p);
}

test(
  'a pass makes one partition per UTC day from the retention cutoff to the days ahead, once',
  { skip },
  async (t) => {
    const pool = await migrated(t);
    const first = await maintainTelemetryPartitions(pool, { retentionDays: 7, aheadDays: 2 }, NOW);
    // Cutoff NOW - 7 days lies in day -7; today is day 0; two ahead: days -7..2.
    const days = Array.from({ length: 10 }, (_, i) => DAY0 + (i - 7) * DAY_MS);
    assert.deepEqual(first.created, days.map(partitionName));
    assert.deepEqual(
      (await listTelemetryPartitions(pool)).map((p) => [p.name, p.from, p.to]),
      days.map((d) => [partitionName(d), d, d + DAY_MS]),
    );
    const again = await maintainTelemetryPartitions(pool, { retentionDays: 7, aheadDays: 2 }, NOW);
    assert.deepEqual(again, {
      ran: true,
      created: [],
      dropped: [],
      moved: 0,
      pruned: 0,
      appliedReferences: 0,
      prunedReferences: 0,
    });
  },
);

test(
  'retention drops whole days past the cutoff and old rows in the default partition; recent rows stay',
  { skip },
  async (t) => {
    const pool = await migrated(t);
    const policy = { retentionDays: 3, aheadDays: 1 };
    await maintainTelemetryPartitions(pool, policy, NOW);
    await insertTelemetry(pgRunner(pool), 'pi-1', 's', [
      record(1, NOW - 2 * DAY_MS),
      record(2, NOW - DAY_MS),
      record(3, NOW),
      record(4, 1_000),
    ]);
    assert.deepEqual(await where(pool, 4), ['telemetry_default'], 'a record from a clock stuck in 1970');

    const later = await maintainTelemetryPartitions(pool, policy, NOW + 2 * DAY_MS);
    assert.deepEqual(later.dropped, [partitionName(DAY0 - 3 * DAY_MS), partitionName(DAY0 - 2 * DAY_MS)]);
    assert.deepEqual(later.created, [partitionName(DAY0 + 2 * DAY_MS), partitionName(DAY0 + 3 * DAY_MS)]);
    assert.equal(later.pruned, 1, 'the 1970 record is past retention by its own time');
    const { rows } = await pool.query<{ seq: number }>('SELECT seq FROM telemetry ORDER BY seq');
    assert.deepEqual(
      rows.map((r) => r.seq),
      [2, 3],
    );
  },
);

test(
  'records from a clock running ahead wait in the default partition, move into their day, and stay exactly-once',
  { skip },
  async (t) => {
    const pool = await migrated(t);
    const policy = { retentionDays: 30, aheadDays: 2 };
    await maintainTelemetryPartitions(pool, policy, NOW);
    const ahead = [record(1, NOW + 10 * DAY_MS), record(2, NOW + 10 * DAY_MS + 1), record(3, NOW + 11 * DAY_MS)];
    assert.equal(await insertTelemetry(pgRunner(pool), 'pi-1', 's', ahead), 3);
    assert.deepEqual(await where(pool, 1), ['telemetry_default']);

    const pass = await maintainTelemetryPartitions(pool, policy, NOW + 8 * DAY_MS);
    assert.equal(pass.moved, 2, 'day +10 got its partition; day +11 is not yet within the days ahead');
    assert.deepEqual(await where(pool, 1), [partitionName(DAY0 + 10 * DAY_MS)]);
    assert.deepEqual(await where(pool, 3), ['telemetry_default']);
    assert.equal(
      await insertTelemetry(pgRunner(pool), 'pi-1', 's', ahead),
      0,
      'the re-send meets the moved rows in their new partition',
    );
    assert.equal((await pool.query('SELECT count(*) AS n FROM telemetry')).rows[0].n, 3);
  },
);

test('only one of several servers runs a pass at a time', { skip }, async (t) => {
  const pool = await migrated(t);
  const other = await pool.connect();
  try {
    await other.query('SELECT pg_advisory_lock($1)', [PARTITION_LOCK_KEY.toString()]);
    const pass = await maintainTelemetryPartitions(pool, {}, NOW);
    assert.equal(pass.ran, false);
    assert.deepEqual(await listTelemetryPartitions(pool), []);
    await other.query('SELECT pg_advisory_unlock($1)', [PARTITION_LOCK_KEY.toString()]);
  } finally {
    other.release();
  }
  assert.equal((await maintainTelemetryPartitions(pool, {}, NOW)).ran, true);
});

test('maintenance runs a pass before it returns, then on its interval, and reports each', { skip }, async (t) => {
  const pool = await migrated(t);
  const reports: Array<PartitionPass | Error> = [];
  const maintenance = await startPartitionMaintenance(pool, { retentionDays: 2 }, (r) => reports.push(r), 50);
  assert.equal(reports.length, 1);
  assert.ok(
    !(reports[0] instanceof Error) && reports[0]!.created.length > 0,
    "today's partitions exist before any telemetry comes",
  );
  while (reports.length < 3) await new Promise((r) => setTimeout(r, 20));
  await maintenance.stop();
  const seen = reports.length;
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(reports.length, seen, 'no pass after stop');
  assert.ok(reports.slice(1).every((r) => !(r instanceof Error) && r.created.length === 0));
});

test('a retention outside 1..3650 whole days is refused with the reason', () => {
  assert.deepEqual(checkPartitionPolicy({}), { retentionDays: 30, aheadDays: 2, lockTimeoutMs: 5000 });
  for (const retentionDays of [0, -1, 1.5, 3651, Number.NaN]) {
    assert.throws(
      () => checkPartitionPolicy({ retentionDays }),
      /telemetryRetentionDays must be a whole number of days from 1 to 3650/,
    );
  }
  assert.throws(() => checkPartitionPolicy({ aheadDays: 0 }), /aheadDays must be 1\.\.31/);
});
