import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SAMPLE_MODELS } from '@edgeloop/models';
import { manifestSchema, type HealthCheck } from '@edgeloop/protocol';
import { ModelRunner, makeTensor, tensorToNumbers } from '../runtime/model-runner.js';
import { runHealthCheck } from './health-check.js';
import { artifactServer, desired, harness, manifest } from './test-support.js';

const v1 = readFileSync(SAMPLE_MODELS.v1);
const v2 = readFileSync(SAMPLE_MODELS.v2);
const grey = { shape: [1, 3, 48, 64], data: new Array<number>(3 * 48 * 64).fill(0.5) };

/** What `bytes` really answers for the grey image: the golden output of a correct health check. */
async function goldenFor(bytes: Uint8Array): Promise<number[]> {
  const runner = await ModelRunner.load(manifestSchema.parse(manifest(1, bytes)), bytes, { intraOpThreads: 1 });
  try {
    return tensorToNumbers((await runner.run({ image: makeTensor('float32', grey.data, grey.shape) })).distance!);
  } finally {
    await runner.release();
  }
}

const check = (distance: number[], tolerance = 0.01): HealthCheck => ({
  inputs: { image: grey },
  outputs: { distance: { data: distance } },
  tolerance,
});

test('runHealthCheck: within tolerance passes; off, non-finite, missing or throwing fails with the output named', async (t) => {
  const runner = await ModelRunner.load(manifestSchema.parse(manifest(1, v1)), v1, { intraOpThreads: 1 });
  t.after(() => runner.release());
  const [expected] = await goldenFor(v1);

  assert.deepEqual(await runHealthCheck(runner, undefined), { ok: true, value: 'no health check in the manifest' });
  assert.equal((await runHealthCheck(runner, check([expected! + 0.005]))).ok, true);

  const off = await runHealthCheck(runner, check([expected! + 40]));
  assert.equal(off.ok, false);
  assert.match(
    !off.ok ? off.reason : '',
    /output "distance"\[0\] is [\d.]+, the golden value is [\d.]+: off by 40(\.\d+)? \(tolerance 0\.01\)/,
  );

  // float32 overflow: the brightness term becomes Infinity (or NaN), whatever the golden value.
  const huge = {
    inputs: { image: { shape: grey.shape, data: grey.data.map(() => 3e38) } },
    outputs: { distance: { data: [0] } },
    tolerance: 1e9,
  };
  const nonFinite = await runHealthCheck(runner, huge);
  assert.match(!nonFinite.ok ? nonFinite.reason : '', /output "distance"\[0\] is (NaN|-?Infinity)/);

  const wrongShape = await runHealthCheck(runner, {
    ...check([expected!]),
    inputs: { image: { shape: [1, 3, 4, 4], data: new Array<number>(48).fill(0) } },
  });
  assert.match(!wrongShape.ok ? wrongShape.reason : '', /the model threw on the golden input/);

  const noSuchOutput = await runHealthCheck(runner, { ...check([expected!]), outputs: { logits: { data: [1] } } });
  assert.match(!noSuchOutput.ok ? noSuchOutput.reason : '', /no output "logits"/);

  const tooMany = await runHealthCheck(runner, check([expected!, expected!]));
  assert.match(!tooMany.ok ? tooMany.reason : '', /has 1 values, the golden output has 2/);
});

test('a version that fails its health check never serves, is not accepted, cannot be replayed, and does not lock out a fix', async (t) => {
  const files = await artifactServer({ v1: { bytes: v1 }, v2: { bytes: v2 } });
  t.after(() => files.server.close());
  const h = harness(t);
  const [golden1] = await goldenFor(v1);
  const [golden2] = await goldenFor(v2);

  await h.manager.apply(desired([{ m: manifest(1, v1, { healthCheck: check([golden1!]) }), url: `${files.url}/v1` }]));
  assert.equal(h.reports.at(-1)?.state, 'active', 'a matching golden output passes');

  const bad = manifest(2, v2, { healthCheck: check([golden2! + 250]) });
  h.reports.length = 0;
  await h.manager.apply(desired([{ m: bad, url: `${files.url}/v2` }]));
  assert.deepEqual(
    h.reports.map((r) => [r.state, r.code]),
    [
      ['downloading', undefined],
      ['verified', undefined],
      ['failed', 'health-check-failed'],
    ],
  );
  assert.match(h.reports.at(-1)?.reason ?? '', /previous model keeps serving: output "distance"\[0\] .* off by 250/);
  assert.equal(h.models.get('distance')?.manifest.version, 1, 'v1 never stopped serving');
  assert.deepEqual(
    h.state.lastAccepted('distance')?.version,
    1,
    'the failed version did not raise the anti-rollback counter',
  );
  assert.equal(
    readdirSync(join(h.dir, 'models')).some((f) => f.startsWith('distance-v2-')),
    false,
    'the failed artifact is deleted',
  );

  // Replaying the same signed desired state: refused at once, no download.
  const downloads = files.hits.length;
  await h.manager.apply(desired([{ m: bad, url: `${files.url}/v2` }]));
  assert.deepEqual([h.reports.at(-1)?.state, h.reports.at(-1)?.code], ['failed', 'health-check-failed']);
  assert.match(h.reports.at(-1)?.reason ?? '', /not tried again on this device/);
  assert.equal(files.hits.length, downloads);

  // The fix, released as v3, is accepted: the failure did not lock the device out.
  await h.manager.apply(desired([{ m: manifest(3, v2, { healthCheck: check([golden2!]) }), url: `${files.url}/v2` }]));
  assert.equal(h.reports.at(-1)?.state, 'active');
  assert.equal(h.models.get('distance')?.manifest.version, 3);
});
