/**
 * Key compromise (REFERENCE §3): the fleet rotates its manifest signing
 * key with the root key. Real agents on a real fleet server and broker:
 *
 * - a normal rotation keeps every device serving; they accept the new keyset and the re-signed
 *   manifests of what they run, and a restart afterwards restores the model from the re-signed
 *   envelope (the old key is no longer trusted, so the old envelope would not load);
 * - a manifest signed by the old (retired) key is refused after the rotation;
 * - the old keyset, replayed to bring the old key back, is refused (anti-rollback on keysets).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyId } from '@edgeloop/protocol';
import { sample, waitFor } from '../support/fixtures.js';
import { startTestFleet, until } from '../support/in-process-fleet.js';
import {
  count,
  desiredRefusals,
  inject,
  loaded,
  manifestOf,
  metadata,
  reported,
  servingVersion,
} from './signing-support.js';

const A = 'sec-rot-pi-a';
const B = 'sec-rot-pi-b';

test(
  'rotating the signing key: devices keep serving, re-signed manifests are accepted, the old key and keyset are refused',
  { timeout: 240_000 },
  async (t) => {
    const fleet = await startTestFleet();
    t.after(() => fleet.close());
    const { server } = fleet;
    let agentA = await fleet.startAgent(A);
    const agentB = await fleet.startAgent(B);
    await fleet.deploySample(A);
    await fleet.deploySample(B);

    // Signed before the rotation: what an attacker holding the old key (or old messages) has.
    const v2 = await server.registry.register({ name: 'distance', bytes: sample.v2, metadata });
    const v3 = await server.registry.register({ name: 'distance', bytes: sample.v1, metadata });
    const oldKey = (await server.keys.signingKey()).keyId;
    const oldKeyset = (await server.keys.keysetEnvelope())!;
    assert.equal(manifestOf(v2.envelope).keyid, oldKey);

    await t.test('a normal rotation keeps devices serving and they accept the re-signed manifests', async () => {
      const result = await server.rotation.rotate('test');
      assert.equal(result.state, 'done');
      assert.equal(result.keyset?.version, 2);
      const newKey = (await server.keys.signingKey()).keyId;
      assert.notEqual(newKey, oldKey);
      assert.deepEqual(result.keyset?.keyIds, [newKey], 'the new keyset lists only the new key');
      assert.equal(
        manifestOf((await server.models.get('distance', 1))!.envelope).keyid,
        newKey,
        'registered manifests are re-signed',
      );
      assert.ok((result.devices ?? 0) >= 2);

      // A model signed only by the new key activates: the devices took keyset v2. The desired state
      // carrying it lists the re-signed v1 first, so its envelope was stored before.
      const marker = await server.registry.register({ name: 'marker', bytes: sample.v1, metadata });
      assert.equal(manifestOf(marker.envelope).keyid, newKey);
      await server.deployments.assign('marker', 1, [A, B]);
      await reported(server, A, 1, 'active', 'marker');
      await reported(server, B, 1, 'active', 'marker');
      assert.equal(await servingVersion(agentA), 1);
      assert.equal(await servingVersion(agentB), 1);
      assert.equal(
        await count(server, A, 1, 'active'),
        1,
        'v1 was not reloaded (or re-downloaded) for its new signature',
      );
      assert.equal(await count(server, A, 1, 'rejected'), 0);

      // Restart with no fleet in reach: only what is on the device decides what is restored.
      await agentA.close();
      agentA = await fleet.startAgent(A, { fleet: { mqttUrl: 'mqtt://127.0.0.1:1', trustedKeys: [server.publicKey] } });
      assert.deepEqual(
        await loaded(agentA),
        { distance: 1, marker: 1 },
        'restored from the re-signed envelopes under keyset v2',
      );
      assert.equal(await servingVersion(agentA), 1);
    });

    await t.test('a manifest signed by the old signing key after rotation is refused', async () => {
      // The fleet database hands out v2 as it was signed before the rotation.
      await server.models.replaceEnvelope('distance', 2, v2.envelope, v2.manifest, oldKey);
      await server.deployments.assign('distance', 2, [B]);
      const refused = await reported(server, B, 2, 'rejected');
      assert.equal(refused.code, 'unknown-key');
      assert.match(refused.reason ?? '', new RegExp(`signed by key\\(s\\) ${oldKey}`));
      assert.equal(await servingVersion(agentB), 1);
    });

    await t.test('the old keyset, replayed with an old-key manifest, is refused', async () => {
      await until('B online', async () => (await server.devices.get(B))?.online === true);
      const before = await desiredRefusals(agentB, 'bad-keyset');
      // Even signed by the current key, a desired state that carries the old keyset is refused
      // whole: the device holds keyset v2 and never goes back to v1.
      await inject(server, B, [{ manifest: v3.envelope, sha256: v3.sha256 }], oldKeyset);
      await waitFor(
        'the desired state with the old keyset refused',
        async () => (await desiredRefusals(agentB, 'bad-keyset')) > before || undefined,
      );
      assert.equal(
        (await count(server, B, 3, 'rejected')) + (await count(server, B, 3, 'active')),
        0,
        'nothing in it was acted on',
      );
      assert.equal(await servingVersion(agentB), 1);
      assert.equal(
        keyId(Buffer.from(server.publicKey, 'base64')),
        server.keys.root.keyId,
        'devices trust the root, not a signing key',
      );
    });
  },
);
