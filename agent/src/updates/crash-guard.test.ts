import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { SAMPLE_MODELS, buildReferenceModel } from '@edgeloop/models';
import { artifactServer, desired, harness, manifest } from './test-support.js';

const v1 = readFileSync(SAMPLE_MODELS.v1);
const v2 = readFileSync(SAMPLE_MODELS.v2);
const v3 = buildReferenceModel({ seed: 3 });

test('after 3 starts that never ran 60 s, the agent reverts to the previous model at startup (crash-loop)', async (t) => {
  const files = await artifactServer({ v1: { bytes: v1 }, v2: { bytes: v2 }, v3: { bytes: v3 } });
  t.after(() => files.server.close());
  const first = harness(t);
  await first.manager.apply(desired([{ m: manifest(1, v1), url: `${files.url}/v1` }]));
  await first.manager.apply(desired([{ m: manifest(2, v2), url: `${files.url}/v2` }]));
  const v2Path = first.state.active()[0]!.path;
  assert.equal(first.state.probation('distance')?.starts, 1, 'the activating run is start 1');
  await first.close(); // "crash" 1: the process ends before healthyAfterMs (60 s by default)

  for (const start of [2, 3]) {
    const again = harness(t, first.dir);
    await again.manager.restore();
    assert.equal(again.models.get('distance')?.manifest.version, 2, `start ${start} still runs v2`);
    assert.equal(again.state.probation('distance')?.starts, start);
    await again.close();
  }

  const reverted = harness(t, first.dir);
  await reverted.manager.restore();
  assert.equal(reverted.models.get('distance')?.manifest.version, 1, 'start 4 reverts to v1 instead of loading v2');
  assert.deepEqual(
    reverted.reports.map((r) => [r.version, r.state, r.code]),
    [
      [2, 'failed', 'crash-loop'],
      [1, 'active', undefined],
    ],
    'the fleet hears of the revert, after any report of v2 still waiting in the outbox',
  );
  assert.equal(reverted.state.active()[0]?.version, 1);
  assert.equal(reverted.state.probation('distance'), undefined);
  assert.equal(reverted.state.lastAccepted('distance')?.version, 1, 'the counter is back at the version that serves');
  assert.equal(existsSync(v2Path), false, 'the crashing artifact is deleted');

  // The fleet still wants v2 (retained desired state): reported failed/crash-loop, not downloaded again.
  const downloads = files.hits.length;
  await reverted.manager.apply(desired([{ m: manifest(2, v2), url: `${files.url}/v2` }]));
  assert.deepEqual([reverted.reports.at(-1)?.state, reverted.reports.at(-1)?.code], ['failed', 'crash-loop']);
  assert.match(
    reverted.reports.at(-1)?.reason ?? '',
    /v2 did not stay up 60 s in 3 consecutive starts .*reverted to v1/,
  );
  assert.equal(files.hits.length, downloads);
  assert.equal(reverted.models.get('distance')?.manifest.version, 1);

  // A fix released as v3 is accepted.
  await reverted.manager.apply(desired([{ m: manifest(3, v3), url: `${files.url}/v3` }]));
  assert.equal(reverted.models.get('distance')?.manifest.version, 3);
  await reverted.close();

  // And v1 survives one more restart as the previous model of v3 (its row, its file, its signature).
  const last = harness(t, first.dir);
  await last.manager.restore();
  assert.equal(last.models.get('distance')?.manifest.version, 3);
});

test('a model that ran healthyAfterMs leaves probation: later restarts are not counted', async (t) => {
  const files = await artifactServer({ v1: { bytes: v1 }, v2: { bytes: v2 } });
  t.after(() => files.server.close());
  const first = harness(t, undefined, { healthyAfterMs: 1000 });
  await first.manager.apply(desired([{ m: manifest(1, v1), url: `${files.url}/v1` }]));
  await first.manager.apply(desired([{ m: manifest(2, v2), url: `${files.url}/v2` }]));
  await new Promise((r) => setTimeout(r, 1200));
  assert.equal(first.state.probation('distance'), undefined);
  await first.close();
  for (let i = 0; i < 4; i++) {
    const again = harness(t, first.dir, { healthyAfterMs: 1000 });
    await again.manager.restore();
    assert.equal(again.models.get('distance')?.manifest.version, 2);
    await again.close();
  }
});

test('a first model that crash-loops is deactivated: the agent stays up without it', async (t) => {
  const files = await artifactServer({ v1: { bytes: v1 } });
  t.after(() => files.server.close());
  const first = harness(t, undefined, { crashLoopStarts: 1 });
  await first.manager.apply(desired([{ m: manifest(1, v1), url: `${files.url}/v1` }]));
  await first.close();
  const second = harness(t, first.dir, { crashLoopStarts: 1 });
  await second.manager.restore();
  assert.equal(second.models.get('distance'), undefined);
  assert.equal(second.state.lastAccepted('distance'), undefined);
  assert.equal(second.state.failedVersion('distance', 1)?.code, 'crash-loop');
});
