/**
 * The preview is the plan create starts from: the same waves with the same devices, nothing
 * written, and a reason when create would refuse (another active rollout of the model).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRolloutSchema } from '@edgeloop/protocol/rest';
import { openKit, seedFleet } from './rollout-test-kit.js';

test('a preview shows the waves and devices create then starts with, and writes nothing', async (t) => {
  const k = await openKit();
  t.after(() => k.close());
  const ids = await seedFleet(k, 10);
  await k.store.assignments.set(ids[9]!, 'distance', 2);
  await k.report(ids[9]!, 2, 'active');
  const req = createRolloutSchema.parse({
    model: 'distance',
    version: 2,
    strategy: 'staged',
    target: { all: true },
    parameters: { waves: [{ percent: 20 }, { percent: 60 }, { percent: 100 }] },
  });

  const preview = await k.engine.preview(req);
  assert.equal(preview.devices, 9, 'the device already on v2 is skipped');
  assert.deepEqual(
    preview.skipped.map((s) => [s.deviceId, s.reason]),
    [[ids[9], 'already serves v2']],
  );
  assert.deepEqual(
    preview.waves.map((w) => w.size),
    [2, 4, 3],
  );
  assert.deepEqual(preview.waves[0]!.devices, ids.slice(0, 2));
  assert.equal(preview.baselineVersion, 1);
  assert.equal(preview.blocked, null);
  assert.equal(await k.engine.store.activeFor('distance'), undefined, 'nothing was created');

  const r = await k.engine.create(req, 'alice');
  const devices = await k.engine.store.devices(r.id);
  for (const w of preview.waves)
    assert.deepEqual(
      devices.filter((d) => d.wave === w.index).map((d) => d.deviceId),
      w.devices,
      `wave ${w.index + 1} has the previewed devices`,
    );

  const again = await k.engine.preview(req);
  assert.match(again.blocked ?? '', new RegExp(`rollout ${r.id} of distance v2 is still running`));
  await assert.rejects(
    k.engine.preview({ ...req, version: 7 }),
    /distance has no v7 \(latest is v2\)/,
    'an unknown version is refused as create refuses it',
  );
});
