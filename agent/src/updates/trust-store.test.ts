import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { buildKeyset, generateKeyPair, keyId, signKeyset, trustedKeyMap } from '@edgeloop/protocol';
import { KeyValue, openAgentDb } from '../store/agent-db.js';
import { TrustStore } from './trust-store.js';

const root = generateKeyPair();
const k1 = generateKeyPair();
const k2 = generateKeyPair();
const silent = pino({ level: 'silent' });

function open(t: { after: (fn: () => void) => void }, dir = mkdtempSync(join(tmpdir(), 'edgeloop-trust-'))) {
  const db = openAgentDb(join(dir, 'agent.db'));
  t.after(() => db.close());
  return { dir, db, trust: new TrustStore(trustedKeyMap([root.publicKey]), new KeyValue(db), silent) };
}

test('a newer root-signed keyset replaces the trusted signing keys; an older one is refused, also after a restart', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-trust-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const v1 = signKeyset(buildKeyset(1, [k1.publicKey]), root);
  const v2 = signKeyset(buildKeyset(2, [k2.publicKey]), root);
  const first = open(t, dir);
  assert.equal(first.trust.manifestKeys().size, 0, 'nothing is trusted for manifests before a keyset arrives');
  assert.equal(first.trust.accept(v1).state, 'accepted');
  assert.equal(first.trust.accept(v1).state, 'same');
  assert.equal(first.trust.accept(v2).state, 'accepted');
  assert.deepEqual([...first.trust.manifestKeys().keys()], [keyId(k2.publicKey)]);
  const replay = first.trust.accept(v1);
  assert.equal(replay.state === 'refused' && replay.code, 'rollback');
  assert.deepEqual([...first.trust.manifestKeys().keys()], [keyId(k2.publicKey)], 'a refused keyset changes nothing');
  first.db.close();

  const second = open(t, dir);
  assert.equal(second.trust.version(), 2, 'the accepted keyset is persisted');
  const again = second.trust.accept(v1);
  assert.equal(again.state === 'refused' && again.code, 'rollback');
  assert.match(second.trust.explain(), /keyset v2.*last keyset refused \(rollback\)/);
});

test('a keyset not signed by a root key is refused and explained', (t) => {
  const { trust } = open(t);
  const forged = trust.accept(signKeyset(buildKeyset(5, [k1.publicKey]), k2));
  assert.equal(forged.state === 'refused' && forged.code, 'unknown-root');
  assert.equal(trust.accept(undefined).state, 'none');
  assert.match(trust.explain(), /has not accepted a keyset yet/);
});
