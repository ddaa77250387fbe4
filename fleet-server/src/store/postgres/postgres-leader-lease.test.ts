import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { LeaderLease } from '../leader-lease.js';
import { openPostgresPool } from './pg-pool.js';
import { PostgresLeaderLease, postgresCoordination } from './postgres-leader-lease.js';
import { startTestPostgres, testPostgresSkip, type TestDatabase } from './test-postgres.js';

const skip = await testPostgresSkip();
const log = pino({ level: 'silent' });
const databases: TestDatabase[] = [];
after(async () => {
  for (const db of databases) await db.stop();
});

async function database(): Promise<string> {
  const db = await startTestPostgres();
  if ('skip' in db) throw new Error(db.skip);
  databases.push(db);
  return db.url;
}

async function until(what: string, probe: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting until ${what}`);
}

/** A lease that records what its listeners heard. */
function lease(url: string, instanceId: string): { lease: LeaderLease; heard: boolean[] } {
  const l = new PostgresLeaderLease({ url, instanceId, log, pollMs: 100 });
  const heard: boolean[] = [];
  l.onChange((leader) => {
    heard.push(leader);
  });
  return { lease: l, heard };
}

test('postgres leader lease: one of two servers leads; the other takes over when it closes', { skip }, async (t) => {
  const url = await database();
  const a = lease(url, 'a');
  const b = lease(url, 'b');
  t.after(() => Promise.all([a.lease.close(), b.lease.close()]));
  await a.lease.start();
  await b.lease.start();
  assert.equal(a.lease.leader, true, 'the first to try leads');
  assert.equal(b.lease.leader, false, 'the second follows');
  assert.deepEqual(a.heard, [true]);
  assert.deepEqual(b.heard, []);

  await a.lease.close();
  assert.deepEqual(a.heard, [true, false], 'closing steps down');
  await until('b leads', () => b.lease.leader);
  assert.deepEqual(b.heard, [true]);
});

test(
  'postgres leader lease: a leader whose session dies steps down, and one server leads again',
  { skip },
  async (t) => {
    const url = await database();
    const a = lease(url, 'a');
    const b = lease(url, 'b');
    const admin = openPostgresPool(url, { max: 1 });
    t.after(async () => {
      await Promise.all([a.lease.close(), b.lease.close()]);
      await admin.end();
    });
    await a.lease.start();
    await b.lease.start();
    assert.equal(a.lease.leader, true);
    const { rows } = await admin.query<{ application_name: string }>(
      "SELECT application_name FROM pg_stat_activity WHERE application_name LIKE 'edgeloop-leader %' ORDER BY 1",
    );
    assert.deepEqual(
      rows.map((r) => r.application_name),
      ['edgeloop-leader a', 'edgeloop-leader b'],
      'an operator sees each lease connection by instance',
    );

    // What a kill -9 of the holder (or a cut network) looks like from PostgreSQL: the session ends.
    await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'edgeloop-leader a'",
    );
    await until('a stepped down', () => a.heard.includes(false));
    // Either may win the free lock on its next attempt; exactly one must lead.
    await until('one leader again', () => a.lease.leader !== b.lease.leader);
    const holders = await admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks
      WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    assert.equal(holders.rows[0]!.n, 1, 'the lock is held once');
  },
);

test('postgres start-up steps run one at a time across servers', { skip }, async () => {
  const url = await database();
  const one = postgresCoordination(url);
  const two = postgresCoordination(url);
  let inside = 0;
  let most = 0;
  const step = async () => {
    inside++;
    most = Math.max(most, inside);
    await new Promise((r) => setTimeout(r, 100));
    inside--;
    return inside;
  };
  await Promise.all([one.startupStep(step), two.startupStep(step), one.startupStep(step)]);
  assert.equal(most, 1);
});

test('postgres decisions take turns across servers; a failing one gives the turn back', { skip }, async () => {
  const url = await database();
  const servers = [postgresCoordination(url), postgresCoordination(url)];
  let inside = 0;
  let most = 0;
  const decision = (fail: boolean) => async () => {
    inside++;
    most = Math.max(most, inside);
    await new Promise((r) => setTimeout(r, 30));
    inside--;
    if (fail) throw new Error('step failed');
    return 'done';
  };
  const outcomes = await Promise.allSettled(
    Array.from({ length: 8 }, (_, i) => servers[i % 2]!.decisionTurn(decision(i === 2))),
  );
  assert.equal(most, 1, 'never two decisions at once');
  assert.deepEqual(
    outcomes.map((o) => o.status),
    ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled'],
  );
  await Promise.all(servers.map((s) => s.close()));
});
