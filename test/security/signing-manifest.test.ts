/**
 * Attacks on one model update (REFERENCE §3), each against a real agent
 * that serves the sample model v1/v2 through a real fleet server and broker. Every case checks
 * the refusal code the device reports and that the version it served before still answers.
 *
 * - arbitrary artifact: a manifest signed by a key the device was never told about; one byte
 *   flipped in the artifact the server hands out;
 * - endless data: an artifact longer than the signed size;
 * - rollback: an older, validly signed manifest delivered again, also after an agent restart;
 * - freeze: a manifest signed by the fleet's real key that has expired;
 * - wrong device: a manifest for another hardware class.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildReferenceModel } from '@edgeloop/models';
import { MANIFEST_SCHEMA, generateKeyPair, sha256Hex, signManifest, type ManifestInput } from '@edgeloop/protocol';
import { sample } from '../support/fixtures.js';
import { startTestFleet, until } from '../support/in-process-fleet.js';
import { count, inject, metadata, reported, servingVersion } from './signing-support.js';

const DEVICE = 'sec-sign-pi';

function manifestFor(version: number, bytes: Uint8Array, overrides: Partial<ManifestInput> = {}): ManifestInput {
  return {
    schema: MANIFEST_SCHEMA,
    name: 'distance',
    version,
    artifact: { sha256: sha256Hex(bytes), size: bytes.length, mediaType: 'application/onnx' },
    created: new Date(Date.now() - 60_000).toISOString(),
    expires: new Date(Date.now() + 86_400_000).toISOString(),
    targets: { arch: ['x64', 'arm64', 'arm'] },
    inputs: [{ name: 'image', dtype: 'float32', shape: ['batch', 3, 48, 64] }],
    outputs: [{ name: 'distance', dtype: 'float32', shape: ['batch', 1] }],
    ...overrides,
  };
}

test(
  'a device refuses forged, tampered, oversized, replayed, expired and foreign updates and keeps serving',
  { timeout: 240_000 },
  async (t) => {
    const fleet = await startTestFleet();
    t.after(() => fleet.close());
    const { server } = fleet;
    let agent = await fleet.startAgent(DEVICE, { hardware: 'raspberrypi4' });
    await fleet.deploySample(DEVICE);
    assert.equal(await servingVersion(agent), 1);
    // The v1 manifest a device that once ran v1 was sent: delivered again later in a fresh, validly
    // signed desired state (a captured old desired state itself is refused by its counter, see
    // desired-replay.test.ts; this is the manifest's own anti-rollback).
    const v1Manifest = (await server.deployments.desiredState(DEVICE))!.models[0]!.manifest;
    const v1Sha = sha256Hex(sample.v1);
    const artifactPath = (sha: string) => join(fleet.dir, 'fleet', 'artifacts', sha);

    await t.test('unknown signing key', async () => {
      const attacker = generateKeyPair();
      const forged = signManifest(manifestFor(90, sample.v2), attacker);
      const v2sha = (await server.registry.register({ name: 'distance', bytes: sample.v2, metadata })).sha256;
      await inject(server, DEVICE, [{ manifest: forged, sha256: v2sha }]);
      const refused = await reported(server, DEVICE, 90, 'rejected');
      assert.equal(refused.code, 'unknown-key');
      assert.match(refused.reason ?? '', /trusts signing key\(s\)/);
      assert.equal(await servingVersion(agent), 1);
    });

    await t.test('one byte flipped in the artifact', async () => {
      const path = artifactPath(sha256Hex(sample.v2));
      const good = readFileSync(path);
      const bad = Buffer.from(good);
      bad[bad.length - 10] = bad[bad.length - 10]! ^ 0x01;
      writeFileSync(path, bad);
      await server.deployments.assign('distance', 2, [DEVICE]);
      const refused = await reported(server, DEVICE, 2, 'rejected');
      assert.ok(
        ['hash-mismatch', 'chunk-mismatch'].includes(refused.code ?? ''),
        `refused as ${refused.code}: ${refused.reason}`,
      );
      assert.equal(await servingVersion(agent), 1);
      // Repaired: the same assignment, delivered again, now goes through (v2 serves from here on).
      writeFileSync(path, good);
      await server.deployments.publishDesired(DEVICE);
      await reported(server, DEVICE, 2, 'active');
      assert.equal(await servingVersion(agent), 2);
    });

    await t.test('artifact longer than the signed length', async () => {
      const v3 = buildReferenceModel({ seed: 3 });
      const row = await server.registry.register({ name: 'distance', bytes: v3, metadata });
      appendFileSync(artifactPath(row.sha256), Buffer.alloc(4096, 7));
      await server.deployments.assign('distance', row.version, [DEVICE]);
      const refused = await reported(server, DEVICE, row.version, 'rejected');
      assert.equal(refused.code, 'too-long', `refused as ${refused.code}: ${refused.reason}`);
      assert.equal(await servingVersion(agent), 2);
      await server.deployments.assign('distance', 2, [DEVICE]);
    });

    await t.test('older validly signed manifest delivered again, also after an agent restart', async () => {
      await inject(server, DEVICE, [{ manifest: v1Manifest, sha256: v1Sha }]);
      const refused = await reported(server, DEVICE, 1, 'rejected');
      assert.equal(refused.code, 'rollback');
      assert.match(refused.reason ?? '', /older than v2/);
      assert.equal(await servingVersion(agent), 2);

      await agent.close();
      agent = await fleet.startAgent(DEVICE, { hardware: 'raspberrypi4' });
      assert.equal(await servingVersion(agent), 2, 'v2 restored after the restart');
      await until('the restarted agent online', async () => (await server.devices.get(DEVICE))?.online === true);
      const before = await count(server, DEVICE, 1, 'rejected');
      await inject(server, DEVICE, [{ manifest: v1Manifest, sha256: v1Sha }]);
      await until('the replay refused again', async () => (await count(server, DEVICE, 1, 'rejected')) > before);
      assert.equal((await server.devices.events(DEVICE, 1))[0]?.code, 'rollback');
      assert.equal(await servingVersion(agent), 2);
    });

    await t.test('expired manifest signed by the fleet key: refused, the current model keeps serving', async () => {
      const expired = signManifest(
        manifestFor(91, sample.v1, { created: '2026-01-01T00:00:00Z', expires: '2026-02-01T00:00:00Z' }),
        await server.keys.signingKey(),
      );
      await inject(server, DEVICE, [{ manifest: expired, sha256: sha256Hex(sample.v1) }]);
      const refused = await reported(server, DEVICE, 91, 'rejected');
      assert.equal(refused.code, 'expired');
      assert.equal(await servingVersion(agent), 2);
    });

    await t.test('manifest for another hardware target', async () => {
      const row = await server.registry.register({
        name: 'distance',
        bytes: sample.v1,
        metadata: { ...metadata, targets: { hardware: ['jetson-orin'] } },
      });
      await server.deployments.assign('distance', row.version, [DEVICE]);
      const refused = await reported(server, DEVICE, row.version, 'rejected');
      assert.equal(refused.code, 'wrong-target');
      assert.match(refused.reason ?? '', /jetson-orin.*raspberrypi4/);
      assert.equal(await servingVersion(agent), 2);
    });
  },
);
