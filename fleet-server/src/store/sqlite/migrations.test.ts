import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SQLITE_MIGRATIONS } from './migrations.js';
import { openSqliteStore } from './open-sqlite-store.js';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-migrate-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a fleet.db made by the previous migration list opens, migrates and keeps its data', async (t) => {
  const path = join(tempDir(t), 'fleet.db');
  const old = new Database(path);
  old.exec(readFileSync(new URL('./fixtures/fleet-v10.sql', import.meta.url), 'utf8'));
  assert.equal(old.pragma('user_version', { simple: true }), 10);
  // A token from before roles existed.
  old
    .prepare('INSERT INTO admin_tokens (id, name, token_hash, created_at, created_by) VALUES (?, ?, ?, ?, ?)')
    .run('adm-old', 'ops', 'hash-old', 1, 'system');
  old.close();

  const store = await openSqliteStore(path);
  try {
    const device = await store.devices.get('pi-old');
    assert.deepEqual(
      [device?.session, device?.group, device?.tags, device?.running.map((m) => m.version)],
      [4, 'site-a', { hw: 'pi4' }, [1]],
    );
    assert.equal(await store.devices.desiredCounter('pi-old'), 5000);
    assert.equal((await store.assignments.get('pi-old', 'distance'))?.version, 1);
    assert.equal(await store.telemetry.count('pi-old'), 1);
    assert.equal((await store.adminTokens.get('adm-old'))?.role, 'admin', 'tokens from before roles keep full access');
    assert.deepEqual(
      (await store.devices.page({ model: { name: 'distance', version: 1, of: 'running' } })).devices.map((d) => d.id),
      ['pi-old'],
      'what a device ran before the migration is found by a running-version filter',
    );
    // The new table works on the migrated file.
    assert.deepEqual(
      await store.telemetry.updateReferences('pi-old', 's1', [
        { seq: 1, reference: 99 },
        { seq: 2, reference: 98 },
      ]),
      { applied: 1, pending: 1 },
    );
  } finally {
    await store.close();
  }
  const after = new Database(path, { readonly: true });
  assert.equal(after.pragma('user_version', { simple: true }), SQLITE_MIGRATIONS.length);
  after.close();
});

test('a database from a newer EdgeLoop is refused, not altered', async (t) => {
  const path = join(tempDir(t), 'fleet.db');
  const newer = new Database(path);
  newer.pragma(`user_version = ${SQLITE_MIGRATIONS.length + 1}`);
  newer.close();
  await assert.rejects(openSqliteStore(path), /newer than this version understands/);
});
