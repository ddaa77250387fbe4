/**
 * Two fleet servers on one PostgreSQL database take update reports of the same device: the
 * shared subscription may hand "verified" to one and the "active" that follows it to the other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { Birth, UpdateReport } from '@edgeloop/protocol';
import { openPostgresStore } from './open-postgres-store.js';
import { startTestPostgres, testPostgresSkip } from './test-postgres.js';
import { recordUpdateReport } from '../../deploy/update-reports.js';

const skip = await testPostgresSkip();

const birth: Birth = {
  v: 1,
  type: 'birth',
  deviceId: 'pi-1',
  session: 1,
  ts: 1,
  agentVersion: '0.1.0',
  arch: 'arm64',
  platform: 'linux',
  cpus: 4,
  memTotalMb: 4096,
  runtime: { name: 'onnxruntime-node', version: '1.30.0' },
  models: [],
  stream: 's1',
  backlog: 0,
};

const report = (reportSeq: number, state: UpdateReport['state']): UpdateReport => ({
  v: 1,
  model: 'm',
  version: 2,
  state,
  ts: 1,
  session: 1,
  reportSeq,
  stream: 's1',
  id: reportSeq,
});

test(
  'an earlier report taken by one server while another takes the later one never overwrites it',
  { skip },
  async (t) => {
    const db = await startTestPostgres();
    if ('skip' in db) throw new Error(db.skip);
    const one = await openPostgresStore(db.url);
    const two = await openPostgresStore(db.url);
    const watcher = new pg.Client({ connectionString: db.url });
    await watcher.connect();
    t.after(async () => {
      await watcher.end();
      await Promise.all([one.close(), two.close()]);
      await db.stop();
    });
    await one.devices.recordBirth(birth);
    await one.assignments.set('pi-1', 'm', 2);

    // Server one has taken "active" (reportSeq 2) and not committed yet; server two gets the
    // "verified" (reportSeq 1) sent before it.
    let taken!: () => void;
    const activeTaken = new Promise<void>((resolve) => (taken = resolve));
    let commit!: () => void;
    const committing = new Promise<void>((resolve) => (commit = resolve));
    const first = one.transaction(async (tx) => {
      const r = await recordUpdateReport(tx, 'pi-1', report(2, 'active'));
      taken();
      await committing;
      return r;
    });
    await activeTaken;
    const second = recordUpdateReport(two, 'pi-1', report(1, 'verified'));
    // Server two is inside its transaction, waiting on a row server one holds.
    for (;;) {
      const { rows } = await watcher.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted');
      if (rows[0]!.n > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    commit();
    assert.deepEqual(await first, { ok: true, value: 'stored' });
    const late = await second;
    assert.equal(late.ok, false);
    assert.equal(!late.ok && late.code, 'replay', 'judged against the cursor server one left');
    const assignment = await two.assignments.get('pi-1', 'm');
    assert.equal(assignment?.state, 'active');
    assert.deepEqual(await two.devices.reportCursor('pi-1'), { session: 1, reportSession: 1, reportSeq: 2 });
  },
);
