import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { parseFleetConfig } from './config.js';
import { startFleetServer } from './server.js';

const silent = pino({ level: 'silent' });
const base = (dataDir: string) => ({
  dataDir,
  http: { port: 0 },
  mqtt: { mode: 'embedded' as const, port: 0 },
  adminToken: 'a-long-enough-admin-token',
});

test('the fleet store lives at <data>/fleet.db unless db (or EDGELOOP_DB_URL) names another place', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-db-setting-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const elsewhere = join(dir, 'db', 'fleet.db');
  const server = await startFleetServer({ ...base(join(dir, 'data')), db: elsewhere }, silent);
  try {
    assert.equal(server.storeLocation, elsewhere);
    assert.ok(existsSync(elsewhere));
    assert.equal(existsSync(join(dir, 'data', 'fleet.db')), false);
  } finally {
    await server.close();
  }

  const saved = process.env.EDGELOOP_DB_URL;
  process.env.EDGELOOP_DB_URL = 'postgres://fleet:s3cret@127.0.0.1:1/fleet';
  try {
    await assert.rejects(
      startFleetServer(base(join(dir, 'data')), silent),
      (e: Error) =>
        /cannot open the PostgreSQL fleet store at postgres:\/\/fleet:\*\*\*@127\.0\.0\.1:1\/fleet/.test(e.message) &&
        !e.message.includes('s3cret'),
    );
  } finally {
    if (saved === undefined) delete process.env.EDGELOOP_DB_URL;
    else process.env.EDGELOOP_DB_URL = saved;
  }
  // The refused start released the data directory.
  const again = await startFleetServer(base(join(dir, 'data')), silent);
  assert.equal(again.storeLocation, join(dir, 'data', 'fleet.db'));
  await again.close();
});

test('telemetryRetentionDays and rollupRetentionDays are validated; a SQLite store takes the telemetry retention too', async (t) => {
  assert.equal(parseFleetConfig({ dataDir: '/d', telemetryRetentionDays: 7 }).telemetryRetentionDays, 7);
  assert.equal(parseFleetConfig({ dataDir: '/d' }).telemetryRetentionDays, undefined);
  assert.equal(parseFleetConfig({ dataDir: '/d', rollupRetentionDays: 90 }).rollupRetentionDays, 90);
  for (const days of [0, 1.5, 3651]) {
    assert.throws(() => parseFleetConfig({ dataDir: '/d', telemetryRetentionDays: days }), /telemetryRetentionDays/);
    assert.throws(() => parseFleetConfig({ dataDir: '/d', rollupRetentionDays: days }), /rollupRetentionDays/);
  }
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-retention-setting-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // SQLite deletes raw telemetry by receive time in its housekeeping (rollups/rollup-housekeeping.ts).
  const server = await startFleetServer({ ...base(join(dir, 'data')), telemetryRetentionDays: 7 }, silent);
  await server.close();
});
