import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SAMPLE_MODELS } from '@edgeloop/models';
import { artifactServer, desired, harness, manifest } from './test-support.js';

const v1 = readFileSync(SAMPLE_MODELS.v1);
const v2 = readFileSync(SAMPLE_MODELS.v2);

// These servers ignore Range (answer 200), so they also cover the whole-file fallback.
test('a valid update goes downloading → verified → active and serves', async (t) => {
  const files = await artifactServer({ v1: { bytes: v1 } });
  t.after(() => files.server.close());
  const h = harness(t);
  await h.manager.apply(desired([{ m: manifest(1, v1), url: `${files.url}/v1` }]));
  assert.deepEqual(
    h.reports.map((r) => r.state),
    ['downloading', 'verified', 'active'],
  );
  assert.equal(h.models.get('distance')?.manifest.version, 1);
  // Re-delivery of the same desired state is a no-op (no second download).
  await h.manager.apply(desired([{ m: manifest(1, v1), url: `${files.url}/v1` }]));
  assert.equal(files.hits.length, 1);
});

test('more bytes than the signed length abort the download: too-long', async (t) => {
  const files = await artifactServer({ v1: { bytes: v1, extra: 1 } });
  t.after(() => files.server.close());
  const h = harness(t);
  await h.manager.apply(desired([{ m: manifest(1, v1), url: `${files.url}/v1` }]));
  assert.equal(h.reports.at(-1)?.state, 'rejected');
  assert.equal(h.reports.at(-1)?.code, 'too-long');
  assert.equal(h.models.get('distance'), undefined);
});

test('expired manifests and manifests for other hardware are refused before any download', async (t) => {
  const files = await artifactServer({ v1: { bytes: v1 } });
  t.after(() => files.server.close());
  const h = harness(t);
  const expired = manifest(1, v1, { created: '2020-01-01T00:00:00Z', expires: '2020-02-01T00:00:00Z' });
  await h.manager.apply(desired([{ m: expired, url: `${files.url}/v1` }]));
  assert.equal(h.reports.at(-1)?.code, 'expired');
  await h.manager.apply(
    desired([
      { m: manifest(1, v1, { targets: { arch: ['x64'], hardware: ['jetson-orin'] } }), url: `${files.url}/v1` },
    ]),
  );
  assert.equal(h.reports.at(-1)?.code, 'wrong-target');
  assert.equal(files.hits.length, 0);
});

test('a model that will not load fails its update and the previous one keeps serving', async (t) => {
  const garbage = Buffer.from('signed, hashed, but not a model at all');
  const files = await artifactServer({ v1: { bytes: v1 }, bad: { bytes: garbage } });
  t.after(() => files.server.close());
  const h = harness(t);
  await h.manager.apply(desired([{ m: manifest(1, v1), url: `${files.url}/v1` }]));
  await h.manager.apply(desired([{ m: manifest(2, garbage), url: `${files.url}/bad` }]));
  assert.equal(h.reports.at(-1)?.state, 'failed');
  assert.equal(h.reports.at(-1)?.code, 'load-failed');
  assert.equal(h.models.get('distance')?.manifest.version, 1);
});

test('anti-rollback survives a restart: the older version is refused after reopening the state', async (t) => {
  const files = await artifactServer({ v1: { bytes: v1 }, v2: { bytes: v2 } });
  t.after(() => files.server.close());
  const first = harness(t);
  await first.manager.apply(desired([{ m: manifest(1, v1), url: `${files.url}/v1` }]));
  await first.manager.apply(desired([{ m: manifest(2, v2), url: `${files.url}/v2` }]));
  assert.equal(first.models.get('distance')?.manifest.version, 2);
  await first.close();

  const second = harness(t, first.dir);
  await second.manager.restore();
  assert.equal(second.models.get('distance')?.manifest.version, 2, 'restored after restart');
  await second.manager.apply(desired([{ m: manifest(1, v1), url: `${files.url}/v1` }]));
  assert.equal(second.reports.at(-1)?.state, 'rejected');
  assert.equal(second.reports.at(-1)?.code, 'rollback');
  assert.equal(second.models.get('distance')?.manifest.version, 2);
});

test('a model dropped from the desired state is removed', async (t) => {
  const files = await artifactServer({ v1: { bytes: v1 } });
  t.after(() => files.server.close());
  const h = harness(t);
  await h.manager.apply(desired([{ m: manifest(1, v1), url: `${files.url}/v1` }]));
  await h.manager.apply(desired([]));
  assert.equal(h.reports.at(-1)?.state, 'removed');
  assert.equal(h.models.get('distance'), undefined);
});

test('a shadow entry is fetched through the same port and reported with role shadow throughout; the serving version is untouched', async (t) => {
  const files = await artifactServer({ v1: { bytes: v1 }, v2: { bytes: v2 } });
  t.after(() => files.server.close());
  const h = harness(t);
  await h.manager.apply(desired([{ m: manifest(1, v1), url: `${files.url}/v1` }]));
  const before = h.reports.length;
  const withShadow = desired([
    { m: manifest(1, v1), url: `${files.url}/v1` },
    { m: manifest(2, v2), url: `${files.url}/v2` },
  ]);
  withShadow.models[1] = { ...withShadow.models[1]!, role: 'shadow' };
  await h.manager.apply(withShadow);
  assert.deepEqual(
    h.reports.slice(before).map((r) => [r.version, r.state, r.role]),
    [
      [2, 'downloading', 'shadow'],
      [2, 'verified', 'shadow'],
      [2, 'active', 'shadow'],
    ],
  );
  assert.equal(h.models.get('distance')?.manifest.version, 1, 'the shadow never serves');

  // Dropped from the desired state: unloaded and reported as a shadow removal, not a serving one.
  await h.manager.apply(desired([{ m: manifest(1, v1), url: `${files.url}/v1` }]));
  assert.deepEqual(
    h.reports.slice(-1).map((r) => [r.version, r.state, r.role]),
    [[2, 'removed', 'shadow']],
  );
  assert.equal(h.models.get('distance')?.manifest.version, 1);
});
