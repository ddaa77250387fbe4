import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { runFleetStoreSuite } from '../store-suite.js';
import { openFleetStore, type FleetStoreOptions } from '../open-fleet-store.js';
import { openPostgresStore } from './open-postgres-store.js';
import { openPostgresPool } from './pg-pool.js';
import { listTelemetryPartitions } from './telemetry-partitions.js';
import { startTestPostgres, testPostgresSkip, type TestDatabase } from './test-postgres.js';

const skip = await testPostgresSkip();
const databases: TestDatabase[] = [];
after(() => Promise.all(databases.map((db) => db.stop())));

async function freshDatabase(): Promise<string> {
  const db = await startTestPostgres();
  if ('skip' in db) throw new Error(db.skip);
  databases.push(db);
  return db.url;
}

// The contract every store passes. Two days of retention: fewer partitions to make per test.
if (skip) test('postgres: the FleetStore contract suite', { skip }, () => undefined);
else
  runFleetStoreSuite('postgres', async () => openPostgresStore(await freshDatabase(), { telemetryRetentionDays: 2 }));

test(
  'openFleetStore opens a postgres:// URL as the PostgreSQL store, and refuses a bad retention setting',
  { skip },
  async (t) => {
    const url = await freshDatabase();
    const store = await openFleetStore({ url });
    t.after(() => store.close());
    assert.equal(
      await store.telemetry.insertBatch('pi-1', 's1', [
        { seq: 1, ts: Date.now(), model: 'm', version: 1, output: [1], latencyMs: 1, features: {} },
      ]),
      1,
    );
    assert.equal(await store.telemetry.count(), 1);
    await assert.rejects(
      openPostgresStore(url, { telemetryRetentionDays: 0 }),
      /telemetryRetentionDays must be a whole number of days from 1 to 3650/,
    );
  },
);

test(
  'openFleetStore keeps telemetryRetentionDays of partitions; without it EDGELOOP_TELEMETRY_RETENTION_DAYS, else 30',
  { skip },
  async (t) => {
    /** Daily partitions made by the first maintenance pass: the cutoff's day through two days ahead. */
    const partitionsKept = async (options: FleetStoreOptions) => {
      const url = await freshDatabase();
      const store = await openFleetStore({ url }, options);
      const pool = openPostgresPool(url, { max: 1 });
      try {
        return (await listTelemetryPartitions(pool)).length;
      } finally {
        await pool.end();
        await store.close();
      }
    };
    const saved = process.env.EDGELOOP_TELEMETRY_RETENTION_DAYS;
    t.after(() => {
      if (saved === undefined) delete process.env.EDGELOOP_TELEMETRY_RETENTION_DAYS;
      else process.env.EDGELOOP_TELEMETRY_RETENTION_DAYS = saved;
    });
    delete process.env.EDGELOOP_TELEMETRY_RETENTION_DAYS;
    assert.equal(await partitionsKept({}), 30 + 3);
    assert.equal(await partitionsKept({ telemetryRetentionDays: 5 }), 5 + 3);
    process.env.EDGELOOP_TELEMETRY_RETENTION_DAYS = '4';
    assert.equal(await partitionsKept({}), 4 + 3, 'the environment, when the setting is absent');
    assert.equal(await partitionsKept({ telemetryRetentionDays: 6 }), 6 + 3, 'the setting wins');
  },
);

test('a server that cannot reach its database says where it tried, without the password', { skip }, async () => {
  const url = new URL(await freshDatabase());
  url.password = 'wrong-password';
  await assert.rejects(
    openPostgresStore(url.toString()),
    (err: Error) =>
      /cannot open the PostgreSQL fleet store at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1/.test(err.message) &&
      !err.message.includes('wrong-password'),
  );
});

/** Resolves once `promise` has settled, or with 'pending' after ms. */
const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise, new Promise<'pending'>((r) => setTimeout(r, ms, 'pending'))]);

test(
  "a reference value sent while its record's insert is still uncommitted is applied, not left waiting",
  { skip },
  async (t) => {
    const store = await openPostgresStore(await freshDatabase(), { telemetryRetentionDays: 2 });
    t.after(() => store.close());
    const record = {
      seq: 10,
      ts: Date.now(),
      model: 'm',
      version: 1,
      output: [1],
      prediction: 1,
      latencyMs: 1,
      features: {},
    };
    let commit!: () => void;
    let inserted!: () => void;
    const insertedYet = new Promise<void>((r) => (inserted = r));
    const group = store.transaction(async (tx) => {
      await tx.telemetry.insertBatch('pi-1', 's1', [record]);
      inserted();
      await new Promise<void>((r) => (commit = r));
    });
    await insertedYet;
    // Another connection: the record is not visible to it yet.
    const update = store.telemetry.updateReferences('pi-1', 's1', [{ seq: 10, reference: 42 }]);
    try {
      assert.equal(
        await within(update, 300),
        'pending',
        'parking the value waits for the insert of its stream to commit',
      );
    } finally {
      commit();
      await group;
      await update;
    }
    const [row] = await store.telemetry.query({ device: 'pi-1' });
    assert.equal(row!.reference, 42);
  },
);

test('a record inserted while its reference value is being parked takes the value', { skip }, async (t) => {
  const store = await openPostgresStore(await freshDatabase(), { telemetryRetentionDays: 2 });
  t.after(() => store.close());
  let commit!: () => void;
  let parked!: () => void;
  const parkedYet = new Promise<void>((r) => (parked = r));
  const park = store.transaction(async (tx) => {
    assert.deepEqual(await tx.telemetry.updateReferences('pi-1', 's1', [{ seq: 10, reference: 42 }]), {
      applied: 0,
      pending: 1,
    });
    parked();
    await new Promise<void>((r) => (commit = r));
  });
  await parkedYet;
  const insert = store.telemetry.insertBatch('pi-1', 's1', [
    { seq: 10, ts: Date.now(), model: 'm', version: 1, output: [1], prediction: 1, latencyMs: 1, features: {} },
  ]);
  try {
    assert.equal(await within(insert, 300), 'pending', 'the insert waits for the park of its stream to commit');
  } finally {
    commit();
    await park;
  }
  assert.equal(await insert, 1);
  const [row] = await store.telemetry.query({ device: 'pi-1' });
  assert.equal(row!.reference, 42);
});

test(
  'storeBatches skips records already in the table even when the per-stream highest seq lags behind',
  { skip },
  async (t) => {
    const url = await freshDatabase();
    const store = await openPostgresStore(url, { telemetryRetentionDays: 2 });
    t.after(() => store.close());
    const records = [1, 2, 3].map((seq) => ({
      seq,
      ts: Date.now(),
      model: 'm',
      version: 1,
      output: [seq],
      latencyMs: 1,
      features: {},
    }));
    const batch = { deviceId: 'pi-1', stream: 's1', records, historical: false };
    assert.deepEqual(await store.telemetry.storeBatches([batch]), [{ added: 3, registered: true }]);
    // As after restoring telemetry without telemetry_streams: the records look new to the COPY path.
    const pool = openPostgresPool(url, { max: 1 });
    await pool.query('DELETE FROM telemetry_streams');
    await pool.end();
    assert.deepEqual(await store.telemetry.storeBatches([batch, { ...batch, deviceId: 'pi-2' }]), [
      { added: 0, registered: false },
      { added: 3, registered: true },
    ]);
    assert.equal(await store.telemetry.count(), 6);
    assert.equal((await store.devices.get('pi-1'))!.records, 3);
  },
);
