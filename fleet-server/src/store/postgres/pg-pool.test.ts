import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { openPostgresPool, parseInt8, redactUrl } from './pg-pool.js';
import { openTestPool, startTestPostgres, testPostgresSkip } from './test-postgres.js';

const skip = await testPostgresSkip();

test('int8 is a number while it is a safe integer, a bigint beyond', () => {
  assert.equal(parseInt8('1795000000000'), 1_795_000_000_000);
  assert.equal(parseInt8('-9007199254740991'), -Number.MAX_SAFE_INTEGER);
  assert.equal(parseInt8('9007199254740993'), 9_007_199_254_740_993n, 'not rounded to ...992');
});

test("bigint columns, counts and averages come back as numbers from the store's pool only", { skip }, async (t) => {
  const { pool, url } = await openTestPool(t);
  const { rows } = await pool.query(
    'SELECT 1795000000000::bigint AS ms, count(*) AS n, avg(x) AS mean FROM (VALUES (1::bigint), (2::bigint)) v(x)',
  );
  assert.deepEqual(rows[0], { ms: 1_795_000_000_000, n: 2, mean: 1.5 });
  // The parsers belong to this pool: a plain client of the same process still gets pg's strings.
  const plain = new pg.Client(url);
  await plain.connect();
  try {
    assert.deepEqual((await plain.query('SELECT 5::bigint AS n')).rows[0], { n: '5' });
  } finally {
    await plain.end();
  }
});

test('a URL that is not PostgreSQL is refused without echoing its password', () => {
  assert.throws(
    () => openPostgresPool('mysql://admin:hunter2@db/fleet'),
    (err: Error) => /not a PostgreSQL URL/.test(err.message) && !err.message.includes('hunter2'),
  );
  assert.equal(
    redactUrl('postgres://fleet:s3cret@db.example:5433/fleet'),
    'postgres://fleet:***@db.example:5433/fleet',
  );
});

test('a pool reports an idle connection the server ended, and the next query reconnects', { skip }, async (t) => {
  const db = await startTestPostgres();
  assert.ok('url' in db);
  const errors: Error[] = [];
  const pool = openPostgresPool(db.url, { onIdleError: (err) => errors.push(err) });
  t.after(async () => {
    await pool.end();
    await db.stop();
  });
  const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const admin = new pg.Client(db.url);
  await admin.connect();
  await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
  await admin.end();
  for (let i = 0; i < 50 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(errors.length, 1, "the idle connection's end was reported, not thrown");
  assert.deepEqual((await pool.query('SELECT 1 AS one')).rows, [{ one: 1 }]);
});
