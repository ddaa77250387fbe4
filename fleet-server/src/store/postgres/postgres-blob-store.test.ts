import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { runBlobStoreSuite } from '../blobs/blob-contract.js';
import { openPostgresStore } from './open-postgres-store.js';
import { startTestPostgres, testPostgresSkip, type TestDatabase } from './test-postgres.js';

const skip = await testPostgresSkip();
const databases: TestDatabase[] = [];
after(async () => {
  for (const db of databases) await db.stop();
});

async function openStore() {
  const db = await startTestPostgres();
  if ('skip' in db) throw new Error(db.skip);
  databases.push(db);
  return { store: await openPostgresStore(db.url), url: db.url };
}

runBlobStoreSuite(
  'postgres',
  async () => {
    const { store } = await openStore();
    const dir = mkdtempSync(join(tmpdir(), 'pg-blobs-'));
    return {
      blobs: store.blobStore!('artifacts', dir),
      close: async () => {
        await store.close();
        rmSync(dir, { recursive: true });
      },
    };
  },
  { skip },
);

test(
  'postgres blobs: namespaces are apart, and a second server on the database reads what the first stored',
  { skip },
  async (t) => {
    const { store, url } = await openStore();
    const other = await openPostgresStore(url);
    const dir = mkdtempSync(join(tmpdir(), 'pg-blobs-'));
    t.after(async () => {
      await store.close();
      await other.close();
      rmSync(dir, { recursive: true });
    });
    const bytes = randomBytes(300_000);
    const { sha256 } = await store.blobStore!('artifacts', join(dir, 'a')).put(bytes);
    assert.equal(await store.blobStore!('samples', join(dir, 'b')).size(sha256), undefined);
    const elsewhere = other.blobStore!('artifacts', join(dir, 'c'));
    assert.equal(await elsewhere.size(sha256), bytes.length);
    assert.deepEqual(await elsewhere.readRange(sha256, 0, bytes.length), bytes);
    // Both store the same new bytes at once: one copy, both answered.
    const twice = randomBytes(600_000);
    const results = await Promise.all([store.blobStore!('artifacts', join(dir, 'a')).put(twice), elsewhere.put(twice)]);
    assert.equal(results[0].sha256, results[1].sha256);
    assert.deepEqual(await elsewhere.readRange(results[0].sha256, 0, twice.length), twice);
  },
);
