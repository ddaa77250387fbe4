import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openFleetStore, parseStoreLocation, redact } from './open-fleet-store.js';

test('a path is a SQLite file, a postgres URL a database URL; other URLs are refused with the forms accepted', () => {
  assert.deepEqual(parseStoreLocation('data/fleet.db'), { sqlitePath: resolve('data/fleet.db') });
  assert.deepEqual(parseStoreLocation(':memory:'), { sqlitePath: ':memory:' });
  assert.deepEqual(parseStoreLocation('postgres://u:p@db.local/fleet'), { url: 'postgres://u:p@db.local/fleet' });
  assert.deepEqual(parseStoreLocation('postgresql://db.local/fleet'), { url: 'postgresql://db.local/fleet' });
  assert.throws(
    () => parseStoreLocation('mysql://root:secret@db/fleet'),
    (e: Error) => /SQLite file path or a postgres:\/\/ URL/.test(e.message) && !e.message.includes('secret'),
  );
  assert.equal(redact('postgres://fleet:s3cret@db:5432/fleet'), 'postgres://fleet:***@db:5432/fleet');
});

test('openFleetStore opens a SQLite file where asked, and says when a PostgreSQL database cannot be reached, without the password', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-open-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'nested', 'fleet.db');
  const store = await openFleetStore({ sqlitePath: path });
  await store.devices.ensure('pi-1');
  await store.close();
  assert.ok(existsSync(path));
  const reopened = await openFleetStore({ sqlitePath: path });
  assert.equal(await reopened.devices.exists('pi-1'), true);
  await reopened.close();
  await assert.rejects(
    openFleetStore({ url: 'postgres://fleet:s3cret@127.0.0.1:1/fleet' }),
    (e: Error) =>
      /cannot open the PostgreSQL fleet store at postgres:\/\/fleet:\*\*\*@127\.0\.0\.1:1\/fleet/.test(e.message) &&
      !e.message.includes('s3cret'),
  );
});
