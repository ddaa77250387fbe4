/**
 * Freeze protection without freezing the fleet: manifests expire, so the fleet
 * re-signs assigned versions that would expire within half their TTL. A real agent gets the
 * re-signed manifest of the version it runs and keeps it without reloading the model; versions
 * that are not assigned, or not yet near expiry, are left alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sample } from '../support/fixtures.js';
import { startTestFleet } from '../support/in-process-fleet.js';
import { count, manifestOf, metadata, reported, servingVersion } from './signing-support.js';

const DEVICE = 'sec-exp-pi';
const DAY = 86_400_000;

test(
  'assigned manifests near expiry are re-signed and taken up by devices without a reload',
  { timeout: 120_000 },
  async (t) => {
    const fleet = await startTestFleet();
    t.after(() => fleet.close());
    const { server } = fleet;
    const agent = await fleet.startAgent(DEVICE);
    await fleet.deploySample(DEVICE);
    // v2 was signed 20 days ago: 10 days left of its 30-day TTL, less than half.
    const v2 = await server.registry.register(
      { name: 'distance', bytes: sample.v2, metadata },
      new Date(Date.now() - 20 * DAY),
    );

    // v1 is fresh and v2 is assigned nowhere yet: nothing to do.
    assert.deepEqual((await server.resigner.runOnce()).resigned, []);

    await server.deployments.assign('distance', 2, [DEVICE]);
    await reported(server, DEVICE, 2, 'active');
    const v1Before = (await server.models.get('distance', 1))!;
    const started = Date.now();
    const outcome = await server.resigner.runOnce();
    assert.deepEqual(
      outcome.resigned.map((r) => `${r.name}@${r.version}`),
      ['distance@2'],
    );
    assert.equal(outcome.devices, 1);
    const after = (await server.models.get('distance', 2))!;
    assert.equal(after.sha256, v2.sha256);
    assert.ok(Date.parse(after.manifest.expires) >= started + 30 * DAY - 1000, `new expiry ${after.manifest.expires}`);
    assert.equal(
      (await server.models.get('distance', 1))!.manifest.expires,
      v1Before.manifest.expires,
      'versions no longer assigned are not re-signed',
    );
    assert.equal(
      manifestOf((await server.deployments.desiredState(DEVICE))!.models[0]!.manifest).expires,
      after.manifest.expires,
    );
    assert.ok((await server.audit.list({ action: 'model.resign' })).length >= 1, 'the automatic re-sign is audited');

    // The device takes the new envelope quietly: a later update goes through the same queue, so
    // once it is active the re-signed v1 was handled, and it caused no reload and no refusal.
    const marker = await server.registry.register({ name: 'marker', bytes: sample.v1, metadata });
    await server.deployments.assign('marker', marker.version, [DEVICE]);
    await reported(server, DEVICE, marker.version, 'active', 'marker');
    assert.equal(await count(server, DEVICE, 2, 'active'), 1);
    assert.equal(await count(server, DEVICE, 2, 'rejected'), 0);
    assert.equal(await servingVersion(agent), 2);
  },
);
