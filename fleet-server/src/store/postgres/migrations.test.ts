import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSqliteDatabase } from '../sqlite/open-sqlite-store.js';
import { openPostgresPool } from './pg-pool.js';
import { migratePostgres, POSTGRES_MIGRATIONS, type Migration } from './migrations.js';
import { openTestPool, testPostgresSkip } from './test-postgres.js';

const skip = await testPostgresSkip();

/** table → column → nullable, from the SQLite fleet database after all its migrations. */
function sqliteSchema(): Map<string, Map<string, boolean>> {
  const db = openSqliteDatabase(':memory:');
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .all() as Array<{ name: string }>;
    return new Map(
      tables.map(({ name }) => {
        const cols = db.prepare(`PRAGMA table_info(${name})`).all() as Array<{
          name: string;
          notnull: number;
          pk: number;
        }>;
        return [name, new Map(cols.map((c) => [c.name, c.notnull === 0 && c.pk === 0]))];
      }),
    );
  } finally {
    db.close();
  }
}

test('the PostgreSQL schema has every SQLite table and column, with the same nullability', { skip }, async (t) => {
  const { pool } = await openTestPool(t);
  assert.deepEqual(await migratePostgres(pool), {
    applied: POSTGRES_MIGRATIONS.map((m) => m.name),
    version: POSTGRES_MIGRATIONS.length,
  });
  const { rows } = await pool.query<{ table_name: string; column_name: string; is_nullable: string }>(
    `SELECT c.table_name, c.column_name, c.is_nullable FROM information_schema.columns c
       JOIN pg_class k ON k.relname = c.table_name AND NOT k.relispartition
      WHERE c.table_schema = 'public'`,
  );
  const pgSchema = new Map<string, Map<string, boolean>>();
  for (const r of rows) {
    if (!pgSchema.has(r.table_name)) pgSchema.set(r.table_name, new Map());
    pgSchema.get(r.table_name)!.set(r.column_name, r.is_nullable === 'YES');
  }
  const sqlite = sqliteSchema();
  for (const [table, columns] of sqlite) {
    assert.deepEqual(
      [...(pgSchema.get(table) ?? new Map<string, boolean>())].sort(),
      [...columns].sort(),
      `table ${table}`,
    );
  }
  // Beyond SQLite: the record of applied migrations (SQLite keeps it in user_version), each
  // stream's highest seq (telemetry's unique key alone does the job in SQLite), and blobs for a
  // cluster without a shared folder (a SQLite store serves one server, whose folder suffices).
  assert.deepEqual([...pgSchema.keys()].filter((t) => !sqlite.has(t)).sort(), [
    'blob_chunks',
    'blobs',
    'schema_migrations',
    'telemetry_streams',
  ]);
});

test('servers starting together migrate once; a second run applies nothing', { skip }, async (t) => {
  const { url } = await openTestPool(t);
  // Each "server" has its own pool, as separate processes would.
  const servers = Array.from({ length: 4 }, () => openPostgresPool(url, { max: 2 }));
  t.after(() => Promise.all(servers.map((p) => p.end())));
  const results = await Promise.all(servers.map((p) => migratePostgres(p)));
  assert.equal(results.filter((r) => r.applied.length > 0).length, 1, 'exactly one server applied the migrations');
  assert.ok(results.every((r) => r.version === POSTGRES_MIGRATIONS.length));
  const { rows } = await servers[0]!.query<{ n: number }>('SELECT count(*) AS n FROM schema_migrations');
  assert.equal(rows[0]!.n, POSTGRES_MIGRATIONS.length);
  assert.deepEqual((await migratePostgres(servers[1]!)).applied, []);
});

test('a later migration is applied on top; a failing one leaves nothing behind', { skip }, async (t) => {
  const { pool } = await openTestPool(t);
  await migratePostgres(pool);
  const next: Migration[] = [
    ...POSTGRES_MIGRATIONS,
    { name: 'devices-note', sql: 'ALTER TABLE devices ADD COLUMN note text' },
  ];
  assert.deepEqual((await migratePostgres(pool, next)).applied, ['devices-note']);

  const broken: Migration[] = [
    ...next,
    { name: 'half-done', sql: 'CREATE TABLE half (x int); SELECT no_such_function()' },
  ];
  await assert.rejects(
    migratePostgres(pool, broken),
    new RegExp(`migration ${broken.length} \\(half-done\\) failed: .*no_such_function`),
  );
  const { rows } = await pool.query(
    "SELECT to_regclass('half') AS half, (SELECT max(version) FROM schema_migrations) AS v",
  );
  assert.deepEqual(rows[0], { half: null, v: next.length }, 'the failed migration rolled back entirely');
});

test('the device-list migration fills device_models from what devices already run', { skip }, async (t) => {
  const { pool } = await openTestPool(t);
  const at = POSTGRES_MIGRATIONS.findIndex((m) => m.name === 'device-list');
  await migratePostgres(pool, POSTGRES_MIGRATIONS.slice(0, at));
  await pool.query(
    `INSERT INTO devices (id, first_seen, running) VALUES
       ('a', 1, '[{"name":"m","version":2,"sha256":"x"},{"name":"n","version":1,"sha256":"y"}]'),
       ('b', 1, '[]'),
       ('c', 1, '[{"name":"m","version":3,"sha256":"z"}]')`,
  );
  await migratePostgres(pool);
  const { rows } = await pool.query('SELECT device_id, model, version FROM device_models ORDER BY device_id, model');
  assert.deepEqual(rows, [
    { device_id: 'a', model: 'm', version: 2 },
    { device_id: 'a', model: 'n', version: 1 },
    { device_id: 'c', model: 'm', version: 3 },
  ]);
});

test('a database from a newer or a different build is refused', { skip }, async (t) => {
  const { pool } = await openTestPool(t);
  const next: Migration[] = [
    ...POSTGRES_MIGRATIONS,
    { name: 'devices-note', sql: 'ALTER TABLE devices ADD COLUMN note text' },
  ];
  await migratePostgres(pool, next);
  const known = POSTGRES_MIGRATIONS.length;
  await assert.rejects(
    migratePostgres(pool),
    new RegExp(`schema v${known + 1} is newer than this version understands \\(v${known}\\); upgrade EdgeLoop`),
  );
  const other: Migration[] = [...POSTGRES_MIGRATIONS, { name: 'something-else', sql: 'SELECT 1' }];
  await assert.rejects(
    migratePostgres(pool, other),
    new RegExp(`migration ${known + 1} is "devices-note", this version expects "something-else"`),
  );
});
