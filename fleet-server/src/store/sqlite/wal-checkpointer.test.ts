import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openSqliteDatabase } from './open-sqlite-store.js';
import { CHECKPOINT_EVERY_RECORDS, SAFETY_NET_PAGES, WalCheckpointer } from './wal-checkpointer.js';

test('the worker checkpoints the WAL once enough records are committed, and the main connection only as a safety net', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-wal-ckpt-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'fleet.db');
  const db = openSqliteDatabase(path);
  const errors: string[] = [];
  const ckpt = new WalCheckpointer(
    path,
    (pages) => db.pragma(`wal_autocheckpoint = ${pages}`),
    (m) => errors.push(m),
  );
  t.after(() => db.open && db.close());
  assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), SAFETY_NET_PAGES);

  const insert = db.prepare('INSERT INTO devices (id, first_seen, last_seen) VALUES (?, 1, 1)');
  db.transaction(() => {
    for (let i = 0; i < 2000; i++) insert.run(`pi-${i}`);
  })();
  const dbBytes = statSync(path).size;
  ckpt.committed(CHECKPOINT_EVERY_RECORDS - 1);
  await sleep(50);
  assert.equal(ckpt.done, 0, 'not yet: too little committed');
  ckpt.committed(1);
  for (let i = 0; i < 500 && ckpt.done === 0; i++) await sleep(10);
  assert.equal(ckpt.done, 1);
  assert.ok(statSync(path).size > dbBytes, 'the pages reached the database file');
  const main = db.pragma('wal_checkpoint(PASSIVE)', { simple: false }) as Array<{ log: number; checkpointed: number }>;
  assert.equal(main[0]!.checkpointed, main[0]!.log, 'nothing left for the main connection to copy');

  await ckpt.close();
  assert.deepEqual(errors, []);
  db.close();
  const reopened = openSqliteDatabase(path);
  assert.equal((reopened.prepare('SELECT count(*) AS n FROM devices').get() as { n: number }).n, 2000);
  reopened.close();
});
