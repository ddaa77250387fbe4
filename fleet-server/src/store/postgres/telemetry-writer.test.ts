import { test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import type { TelemetryRecord } from '@edgeloop/protocol';
import { migratePostgres } from './migrations.js';
import { DAY_MS, maintainTelemetryPartitions } from './telemetry-partitions.js';
import { insertTelemetry, pgRunner, sweepPendingReferences, updateReferences } from './telemetry-writer.js';
import { openTestPool, testPostgresSkip } from './test-postgres.js';

const skip = await testPostgresSkip();
const NOW = Date.UTC(2026, 0, 10, 12);

async function store(t: Parameters<typeof openTestPool>[0]): Promise<pg.Pool> {
  const { pool } = await openTestPool(t);
  await migratePostgres(pool);
  await maintainTelemetryPartitions(pool, { retentionDays: 30 }, NOW);
  return pool;
}

const record = (seq: number, ts = NOW - 3 * DAY_MS + seq * 60_000): TelemetryRecord => ({
  seq,
  ts,
  model: seq % 2 ? 'a' : 'b',
  version: 1 + (seq % 3),
  output: seq % 5 ? [seq / 4] : [1, -2.5, seq],
  prediction: seq % 7 ? seq / 4 : null,
  latencyMs: seq / 8,
  features: seq % 4 ? { f: seq, g: -seq / 3 } : {},
  reference: seq % 3 ? seq + 0.5 : null,
  ...(seq % 6 ? {} : { requestId: `r${seq}` }),
  ...(seq % 9 ? {} : { shadow: true }),
});

interface Row {
  seq: number;
  ts: number;
  received_at: number;
  model: string;
  version: number;
  request_id: string | null;
  output: string;
  prediction: number | null;
  latency_ms: number;
  features: string;
  reference: number | null;
  historical: number;
  shadow: number;
  partition: string;
}
async function rows(pool: pg.Pool, deviceId = 'pi-1'): Promise<Row[]> {
  const { rows } = await pool.query<Row>(
    'SELECT *, tableoid::regclass::text AS partition FROM telemetry WHERE device_id = $1 ORDER BY seq, ts',
    [deviceId],
  );
  return rows;
}

test('a batch stores every field, spread over daily partitions, and counts only new records', { skip }, async (t) => {
  const pool = await store(t);
  // A record every 15 minutes over ~2 days, so the batch crosses partition boundaries.
  const at = (seq: number) => record(seq, NOW - 3 * DAY_MS + seq * 900_000);
  assert.equal(
    await insertTelemetry(
      pgRunner(pool),
      'pi-1',
      's1',
      Array.from({ length: 200 }, (_, i) => at(i + 1)),
      NOW,
      true,
    ),
    200,
  );
  // 150..260 overlaps 51 stored records.
  assert.equal(
    await insertTelemetry(
      pgRunner(pool),
      'pi-1',
      's1',
      Array.from({ length: 111 }, (_, i) => at(i + 150)),
      NOW + 1,
    ),
    60,
  );

  const stored = await rows(pool);
  assert.deepEqual(
    stored.map((r) => r.seq),
    Array.from({ length: 260 }, (_, i) => i + 1),
  );
  assert.ok(new Set(stored.map((r) => r.partition)).size >= 3, 'the records went to several daily partitions');
  for (const row of stored) {
    const want = at(row.seq);
    assert.deepEqual(
      {
        ts: row.ts,
        model: row.model,
        version: row.version,
        output: JSON.parse(row.output),
        prediction: row.prediction,
        latencyMs: row.latency_ms,
        features: JSON.parse(row.features),
        reference: row.reference,
        requestId: row.request_id,
        shadow: row.shadow,
      },
      {
        ts: want.ts,
        model: want.model,
        version: want.version,
        output: want.output,
        prediction: want.prediction ?? null,
        latencyMs: want.latencyMs,
        features: want.features,
        reference: want.reference ?? null,
        requestId: want.requestId ?? null,
        shadow: want.shadow ? 1 : 0,
      },
    );
    assert.equal(row.historical, row.seq <= 200 ? 1 : 0, "the historical flag is the first batch's");
    assert.equal(row.received_at, row.seq <= 200 ? NOW : NOW + 1, 're-sent records keep their first receive time');
    assert.equal(row.partition, `telemetry_p${new Date(want.ts).toISOString().slice(0, 10).replaceAll('-', '')}`);
  }
});

test(
  're-sends are dropped in the default partition too (device clocks far off), and per device and stream',
  { skip },
  async (t) => {
    const pool = await store(t);
    const odd = [record(1, 5_000), record(2, NOW + 400 * DAY_MS)];
    assert.equal(await insertTelemetry(pgRunner(pool), 'pi-1', 's1', odd), 2);
    assert.equal(await insertTelemetry(pgRunner(pool), 'pi-1', 's1', odd), 0);
    assert.deepEqual(
      (await rows(pool)).map((r) => r.partition),
      ['telemetry_default', 'telemetry_default'],
    );
    // The same seq numbers in another stream or from another device are other records.
    assert.equal(await insertTelemetry(pgRunner(pool), 'pi-1', 's2', odd), 2);
    assert.equal(await insertTelemetry(pgRunner(pool), 'pi-2', 's1', odd), 2);
  },
);

test(
  'a seq is stored once per stream whatever ts it comes with; a record held back below the highest seq is still stored',
  { skip },
  async (t) => {
    const pool = await store(t);
    const run = pgRunner(pool);
    // 1..5 and 8 arrive; 6 and 7 are held back on the device (waiting for their reference).
    assert.equal(
      await insertTelemetry(
        run,
        'pi-1',
        's1',
        [1, 2, 3, 4, 5, 8].map((s) => record(s)),
      ),
      6,
    );
    // The same seq numbers with other timestamps, in other daily partitions and in the default one.
    assert.equal(
      await insertTelemetry(run, 'pi-1', 's1', [
        record(2, NOW - 10 * DAY_MS),
        record(5, 1_000),
        record(8, NOW + DAY_MS),
      ]),
      0,
    );
    assert.equal(
      await insertTelemetry(
        run,
        'pi-1',
        's1',
        [6, 7].map((s) => record(s)),
      ),
      2,
      'held-back records are new',
    );
    assert.equal(
      await insertTelemetry(run, 'pi-1', 's1', [record(9), record(6, NOW - DAY_MS)]),
      1,
      'in one batch: 9 is new, 6 is not',
    );
    assert.deepEqual(
      (await rows(pool)).map((r) => [r.seq, r.ts]),
      [1, 2, 3, 4, 5, 6, 7, 8, 9].map((s) => [s, record(s).ts]),
    );
  },
);

test(
  'the largest batch a device may send is one call; text with quotes, backslashes and non-ASCII survives',
  { skip },
  async (t) => {
    const pool = await store(t);
    const big = Array.from({ length: 5000 }, (_, i) => record(i + 1, NOW - DAY_MS + i));
    assert.equal(await insertTelemetry(pgRunner(pool), 'pi-1', 's1', big), 5000);
    assert.equal(await insertTelemetry(pgRunner(pool), 'pi-1', 's1', big), 0);

    const awkward: TelemetryRecord = {
      ...record(9001, NOW),
      requestId: 'a"b\\c{d},e NULL é',
      features: { 'qu"ote': 1, 'back\\slash': 2, ünï: -0.5 },
      output: [1e-300, -0, 12345.678],
    };
    assert.equal(await insertTelemetry(pgRunner(pool), 'pi-9', 's1', [awkward]), 1);
    const [row] = await rows(pool, 'pi-9');
    assert.equal(row!.request_id, awkward.requestId);
    assert.deepEqual(JSON.parse(row!.features), awkward.features);
    assert.deepEqual(JSON.parse(row!.output), [1e-300, 0, 12345.678]);
  },
);

test('inside a transaction, a failed group leaves nothing stored', { skip }, async (t) => {
  const pool = await store(t);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    assert.equal(await insertTelemetry(pgRunner(client), 'pi-1', 's1', [record(1), record(2)]), 2);
    await client.query('ROLLBACK');
  } finally {
    client.release();
  }
  assert.deepEqual(await rows(pool), []);
});

test(
  'a reference value that comes before its record waits for it; one that comes after is applied',
  { skip },
  async (t) => {
    const pool = await store(t);
    // seq 2 twice in one batch: the later reading wins.
    assert.deepEqual(
      await updateReferences(
        pgRunner(pool),
        'pi-1',
        's1',
        [
          { seq: 2, reference: 20 },
          { seq: 3, reference: 30 },
          { seq: 2, reference: 21 },
        ],
        NOW,
      ),
      { applied: 0, pending: 2 },
    );
    assert.equal(
      await insertTelemetry(
        pgRunner(pool),
        'pi-1',
        's1',
        [1, 2, 3].map((s) => record(s)),
      ),
      3,
    );
    assert.deepEqual(
      (await rows(pool)).map((r) => r.reference),
      [1.5, 21, 30],
      "the waiting values replaced the records' own",
    );
    assert.equal(
      (await pool.query('SELECT count(*) AS n FROM pending_references')).rows[0].n,
      0,
      'taken values no longer wait',
    );

    assert.deepEqual(
      await updateReferences(
        pgRunner(pool),
        'pi-1',
        's1',
        [
          { seq: 1, reference: 10 },
          { seq: 4, reference: 40 },
        ],
        NOW,
      ),
      { applied: 1, pending: 1 },
    );
    assert.deepEqual(
      await updateReferences(
        pgRunner(pool),
        'pi-1',
        's1',
        [
          { seq: 1, reference: 10 },
          { seq: 4, reference: 40 },
        ],
        NOW,
      ),
      { applied: 1, pending: 1 },
      'repeating an update changes nothing',
    );
    assert.deepEqual(
      (await rows(pool)).map((r) => r.reference),
      [10, 21, 30],
    );
    assert.equal((await pool.query('SELECT count(*) AS n FROM pending_references')).rows[0].n, 1);
    // Another device's record with the same stream and seq does not take pi-1's value.
    await insertTelemetry(pgRunner(pool), 'pi-2', 's1', [record(4)]);
    assert.equal((await rows(pool, 'pi-2'))[0]!.reference, record(4).reference);
  },
);

test('parking a value for a record that is stored applies it instead', { skip }, async (t) => {
  const pool = await store(t);
  await insertTelemetry(pgRunner(pool), 'pi-1', 's1', [record(1)]);
  // However it gets there (here a plain INSERT, as a repository that parks without looking would).
  await pool.query('INSERT INTO pending_references VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [
    'pi-1',
    's1',
    1,
    99,
    NOW,
  ]);
  assert.equal((await rows(pool))[0]!.reference, 99);
  assert.equal((await pool.query('SELECT count(*) AS n FROM pending_references')).rows[0].n, 0);
});

test(
  'a sweep applies values parked beside an already stored record and drops values past retention',
  { skip },
  async (t) => {
    const pool = await store(t);
    await insertTelemetry(pgRunner(pool), 'pi-1', 's1', [record(1)]);
    // A value parked past the trigger (as restored from a dump, or written with triggers off).
    const client = await pool.connect();
    try {
      await client.query('SET session_replication_role = replica');
      await client.query('INSERT INTO pending_references VALUES ($1, $2, $3, $4, $5)', ['pi-1', 's1', 1, 99, NOW]);
      await client.query('RESET session_replication_role');
    } finally {
      client.release();
    }
    await pool.query('INSERT INTO pending_references VALUES ($1, $2, $3, $4, $5)', [
      'pi-1',
      's1',
      7,
      77,
      NOW - 40 * DAY_MS,
    ]);
    await pool.query('INSERT INTO pending_references VALUES ($1, $2, $3, $4, $5)', ['pi-1', 's1', 8, 88, NOW]);
    assert.equal(
      await insertTelemetry(pgRunner(pool), 'pi-1', 's1', [record(1)]),
      0,
      'a re-send does not take the value',
    );
    assert.deepEqual(await sweepPendingReferences(pgRunner(pool), NOW - 30 * DAY_MS), { applied: 1, pruned: 1 });
    assert.equal((await rows(pool))[0]!.reference, 99);
    assert.deepEqual(
      (await pool.query('SELECT seq FROM pending_references')).rows,
      [{ seq: 8 }],
      'a recent value still waits',
    );
  },
);
