import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { generateKeyPair, keyId, signKeysetPayload, trustedKeyMap, verifyKeyset } from '@edgeloop/protocol';
import { openFleetStore } from '../store/open-fleet-store.js';
import { checkSharedRoot, KeyManager } from './key-manager.js';
import type { RegistryError } from '../registry/model-registry.js';

const silent = pino({ level: 'silent' });

async function setup(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-keymgr-'));
  const store = await openFleetStore({ sqlitePath: join(dir, 'fleet.db') });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, store, keysDir: join(dir, 'keys') };
}

test('a local root bootstraps keyset v1; rotating retires the old key (file deleted) and lists only the new one', async (t) => {
  const { store, keysDir } = await setup(t);
  const keys = new KeyManager({ store, keysDir, log: silent });
  assert.equal((await keys.bootstrap()).state, 'activated');
  assert.equal(statSync(join(keysDir, 'root.key')).mode & 0o777, 0o600);
  const first = await keys.signingKey();
  assert.equal(statSync(join(keysDir, `signing-${first.keyId}.key`)).mode & 0o777, 0o600);
  const v1 = verifyKeyset(await keys.keysetEnvelope(), { rootKeys: trustedKeyMap([keys.root.publicKey]) });
  assert.ok(v1.ok);
  assert.deepEqual(
    v1.value.keys.map((k) => k.keyid),
    [first.keyId],
  );
  assert.equal((await keys.bootstrap()).state, 'ready', 'a second start changes nothing');

  const v2 = await keys.rotateLocally();
  assert.equal(v2.version, 2);
  const second = await keys.signingKey();
  assert.notEqual(second.keyId, first.keyId);
  assert.deepEqual(
    v2.keys.map((k) => k.keyid),
    [second.keyId],
  );
  assert.equal(existsSync(join(keysDir, `signing-${first.keyId}.key`)), false, 'nothing can sign with a retired key');
  assert.deepEqual(
    (await keys.view()).retired.map((r) => r.keyId),
    [first.keyId],
  );
});

test('offline root: nothing signs until the operator signs the pending keyset; only that exact payload, signed by the root, activates', async (t) => {
  const { store, keysDir } = await setup(t);
  const root = generateKeyPair();
  const keys = new KeyManager({ store, keysDir, rootPublicKey: root.publicKey, log: silent });
  assert.equal((await keys.bootstrap()).state, 'pending');
  assert.equal(existsSync(join(keysDir, 'root.key')), false, 'no root secret on the server');
  await assert.rejects(
    async () => await keys.signingKey(),
    (e: RegistryError) => e.status === 409 && /keys rotate --root-key/.test(e.message),
  );
  await assert.rejects(async () => await keys.rotateLocally(), /offline/);

  const pending = await keys.prepare();
  assert.deepEqual(await keys.prepare(), pending, 'asking again returns the same pending keyset');
  await assert.rejects(
    async () => await keys.complete(signKeysetPayload(pending.payload, generateKeyPair())),
    (e: RegistryError) => e.status === 400 && /unknown-root/.test(e.message),
  );
  const other = Buffer.from(
    JSON.stringify({
      ...JSON.parse(Buffer.from(pending.payload, 'base64').toString()),
      created: '2020-01-01T00:00:00.000Z',
    }),
  ).toString('base64');
  await assert.rejects(
    async () => await keys.complete(signKeysetPayload(other, root)),
    (e: RegistryError) => e.status === 409 && /not the pending one/.test(e.message),
  );

  const { keyset } = await keys.complete(signKeysetPayload(pending.payload, root));
  assert.equal(keyset.version, 1);
  assert.equal((await keys.signingKey()).keyId, pending.keyId);
  assert.equal((await keys.view()).root.local, false);
  await assert.rejects(
    async () => await keys.complete(signKeysetPayload(pending.payload, root)),
    /no key rotation is pending/,
  );
});

test('a data directory from before the root adopts its signing.key as the root, so devices configured with it keep trusting the fleet', async (t) => {
  const { store, keysDir } = await setup(t);
  const legacy = generateKeyPair();
  mkdirSync(keysDir, { recursive: true });
  writeFileSync(join(keysDir, 'signing.key'), `${Buffer.from(legacy.secretKey).toString('base64')}\n`, { mode: 0o600 });
  const keys = new KeyManager({ store, keysDir, log: silent });
  assert.equal(keys.root.keyId, keyId(legacy.publicKey));
  assert.equal(existsSync(join(keysDir, 'signing.key')), false);
  assert.equal((await keys.bootstrap()).state, 'activated');
  assert.notEqual((await keys.signingKey()).keyId, keys.root.keyId, 'the root signs keysets only');
});

test('a server that does not see the active key file refuses to sign instead of making up a key', async (t) => {
  const { store, keysDir, dir } = await setup(t);
  const first = new KeyManager({ store, keysDir, log: silent });
  await first.bootstrap();
  const active = await first.signingKey();
  // Another server of the cluster, whose keys folder is not the shared one (its root copied over).
  const otherKeys = join(dir, 'other-keys');
  mkdirSync(otherKeys, { mode: 0o700 });
  writeFileSync(join(otherKeys, 'root.key'), readFileSync(join(keysDir, 'root.key')), { mode: 0o600 });
  const other = new KeyManager({ store, keysDir: otherKeys, log: silent });
  assert.equal((await other.bootstrap()).state, 'ready');
  await assert.rejects(other.signingKey(), /no key file at .*every fleet server must see the same keys folder/);
  assert.ok(!existsSync(join(otherKeys, `signing-${active.keyId}.key`)), 'no key was made up under the active id');

  // A file under the active name holding another key is refused too.
  writeFileSync(
    join(otherKeys, `signing-${active.keyId}.key`),
    `${Buffer.from(generateKeyPair().secretKey).toString('base64')}\n`,
    { mode: 0o600 },
  );
  await assert.rejects(other.signingKey(), /not the active key/);
});

test('a cluster server whose shared keys folder is empty while the fleet has a keyset refuses to start', async (t) => {
  const { store, keysDir, dir } = await setup(t);
  await checkSharedRoot(store, keysDir); // a new fleet: nothing to protect yet
  await new KeyManager({ store, keysDir, log: silent }).bootstrap();
  await checkSharedRoot(store, keysDir);
  await assert.rejects(checkSharedRoot(store, join(dir, 'unmounted')), /holds no root key: is the shared folder/);
});
