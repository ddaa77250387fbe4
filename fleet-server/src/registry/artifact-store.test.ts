import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBlobStoreSuite } from '../store/blobs/blob-contract.js';
import { ArtifactStore } from './artifact-store.js';

runBlobStoreSuite('folder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'blobs-'));
  return { blobs: new ArtifactStore(join(dir, 'artifacts')), close: async () => rmSync(dir, { recursive: true }) };
});

test('folder: files are private; a shared folder keeps staging files another server may be writing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'blobs-'));
  t.after(() => rmSync(dir, { recursive: true }));
  const store = new ArtifactStore(dir);
  const { sha256 } = await store.put(Buffer.from('model'));
  assert.equal(statSync(join(dir, sha256)).mode & 0o777, 0o600);
  assert.equal(statSync(dir).mode & 0o777, 0o700);

  const fresh = join(dir, '.staging-fresh');
  const old = join(dir, '.staging-old');
  writeFileSync(fresh, 'x');
  writeFileSync(old, 'x');
  const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
  utimesSync(old, twoDaysAgo, twoDaysAgo);
  new ArtifactStore(dir, { shared: true });
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.startsWith('.staging-')),
    ['.staging-fresh'],
  );
  new ArtifactStore(dir);
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.startsWith('.staging-')),
    [],
    'one server: every left-over goes',
  );
});
