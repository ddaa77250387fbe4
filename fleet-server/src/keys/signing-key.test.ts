import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateSigningKey } from './signing-key.js';

test('the signing key is created 0600, reloaded unchanged, and loose permissions are tightened', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-keys-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'keys', 'signing.key');
  const created = loadOrCreateSigningKey(path);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, 'keys')).mode & 0o777, 0o700);
  const again = loadOrCreateSigningKey(path);
  assert.equal(again.keyId, created.keyId);
  assert.deepEqual(again.secretKey, created.secretKey);
  chmodSync(path, 0o644);
  loadOrCreateSigningKey(path);
  assert.equal(statSync(path).mode & 0o777, 0o600);
});
