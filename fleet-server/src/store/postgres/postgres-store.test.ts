import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { runFleetStoreSuite } from '../store-suite.js';
import { openFleetStore } from '../open-fleet-store.js';
import { openPostgresStore } from './open-postgres-store.js';
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
else runFleetStoreSuite('postgres', async () => openPostgresStore(await freshDatabase(), { telemetryRetentionDays: 2 }));

test('openFleetStore opens a postgres:// URL as the PostgreSQL store, and refuses a bad retention setting', { skip }, async (t) => {
  const url = await freshDatabase();
  const store = await openFleetStore({ url });
  t.after(() => store.close());
  assert.equal(await store.telemetry.insertBatch('pi-1', 's1', [{ seq: 1, ts: Date.now(), model: 'm', version: 1, output: [1], latencyMs: 1, features: {} }]), 1);
  assert.equal(await store.telemetry.count(), 1);
  await assert.rejects(openPostgresStore(url, { telemetryRetentionDays: 0 }), /telemetryRetentionDays must be a whole number of days from 1 to 3650/);
});

test('a server that cannot reach its database says where it tried, without the password', { skip }, async () => {
  const url = new URL(await freshDatabase());
  url.password = 'wrong-password';
  await assert.rejects(openPostgresStore(url.toString()), (err: Error) =>
    /cannot open the PostgreSQL fleet store at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1/.test(err.message) && !err.message.includes('wrong-password'));
});
