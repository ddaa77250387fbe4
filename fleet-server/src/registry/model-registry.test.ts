import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SAMPLE_MODELS, buildReferenceModel } from '@edgeloop/models';
import { chunkHashes, sha256Hex, trustedKeyMap, verifyManifest, verifyChunk } from '@edgeloop/protocol';
import { loadOrCreateSigningKey } from '../keys/signing-key.js';
import { openFleetStore } from '../store/open-fleet-store.js';
import { ArtifactStore } from './artifact-store.js';
import { ModelRegistry, type RegistryError } from './model-registry.js';

async function registry(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-registry-'));
  const store = await openFleetStore({ sqlitePath: join(dir, 'fleet.db') });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const key = loadOrCreateSigningKey(join(dir, 'signing.key'));
  return {
    key,
    dir,
    registry: new ModelRegistry(store.models, new ArtifactStore(join(dir, 'artifacts')), key, 30 * 86_400_000),
  };
}

const v1 = readFileSync(SAMPLE_MODELS.v1);
const v2 = readFileSync(SAMPLE_MODELS.v2);

test('registering signs a manifest whose tensor spec comes from the model itself', async (t) => {
  const { registry: r, key, dir } = await registry(t);
  const row = await r.register({ name: 'distance', bytes: v1 });
  assert.equal(row.version, 1);
  assert.equal(row.sha256, sha256Hex(v1));
  assert.deepEqual(readFileSync(join(dir, 'artifacts', row.sha256)), v1);
  const verdict = verifyManifest(row.envelope, { trustedKeys: trustedKeyMap([key.publicKey]) });
  assert.ok(verdict.ok);
  assert.deepEqual(verdict.value.inputs, [{ name: 'image', dtype: 'float32', shape: ['batch', 3, 48, 64] }]);
  assert.deepEqual(verdict.value.targets.arch, ['x64', 'arm64', 'arm']);
});

test('versions only go up per model name', async (t) => {
  const { registry: r } = await registry(t);
  assert.equal((await r.register({ name: 'distance', bytes: v1 })).version, 1);
  assert.equal((await r.register({ name: 'distance', bytes: v2, version: 5 })).version, 5);
  assert.equal((await r.register({ name: 'distance', bytes: v1 })).version, 6, 'same bytes again get a new version');
  await assert.rejects(
    async () => await r.register({ name: 'distance', bytes: v2, version: 4 }),
    (e: RegistryError) => e.status === 409 && /not newer/.test(e.message),
  );
  assert.equal((await r.register({ name: 'other', bytes: v2 })).version, 1, 'counters are per name');
});

test('metadata is validated against the model', async (t) => {
  const { registry: r } = await registry(t);
  await assert.rejects(
    async () =>
      await r.register({
        name: 'd',
        bytes: v1,
        metadata: { outputs: [{ name: 'nope', dtype: 'float32', shape: [1] }] },
      }),
    /output "nope"/,
  );
  await assert.rejects(
    async () =>
      await r.register({ name: 'd', bytes: v1, metadata: { postprocessing: { kind: 'regression', output: 'x' } } }),
    /postprocessing.output "x"/,
  );
  await assert.rejects(
    async () => await r.register({ name: 'd', bytes: v1, metadata: { surprise: true } }),
    /invalid metadata/,
  );
  await assert.rejects(async () => await r.register({ name: 'd', bytes: Buffer.from('text') }), /not an ONNX model/);
  // The image preprocessing must make the tensor the model takes ([batch, 3, 48, 64]).
  const image = { kind: 'image', input: 'image', width: 64, height: 48 };
  assert.equal((await r.register({ name: 'ok', bytes: v1, metadata: { preprocessing: image } })).version, 1);
  await assert.rejects(
    async () => await r.register({ name: 'd', bytes: v1, metadata: { preprocessing: { ...image, width: 32 } } }),
    /makes input "image" \[1, 3, 48, 32\].*takes \[batch, 3, 48, 64\]/,
  );
  await assert.rejects(
    async () =>
      await r.register({ name: 'd', bytes: v1, metadata: { preprocessing: { ...image, colorOrder: 'GRAY' } } }),
    /\[1, 1, 48, 64\]/,
  );
  await assert.rejects(
    async () => await r.register({ name: 'd', bytes: v1, metadata: { preprocessing: { ...image, layout: 'NHWC' } } }),
    /\[1, 48, 64, 3\]/,
  );
});

test('artifacts larger than one chunk get signed per-chunk hashes; small ones need none', async (t) => {
  const { registry: r, key } = await registry(t);
  const small = await r.register({ name: 'distance', bytes: v1 });
  assert.equal(small.manifest.artifact.chunks, undefined, 'one chunk: its hash would repeat the sha256');

  const big = buildReferenceModel({ seed: 5, hidden: 200 }); // ~460 KB: several 64 KiB chunks
  const row = await r.register({ name: 'big', bytes: big });
  const verdict = verifyManifest(row.envelope, { trustedKeys: trustedKeyMap([key.publicKey]) });
  assert.ok(verdict.ok);
  const a = verdict.value.artifact;
  assert.equal(a.chunkSize, 64 * 1024);
  assert.deepEqual(a.chunks, chunkHashes(big, 64 * 1024));
  assert.ok(verifyChunk(a, 1, big.subarray(65_536, 131_072)).ok);
});

test('a health check in the metadata is signed into the manifest, and must fit the model', async (t) => {
  const { registry: r } = await registry(t);
  const grey = { shape: [1, 3, 48, 64], data: new Array<number>(3 * 48 * 64).fill(0.5) };
  const healthCheck = { inputs: { image: grey }, outputs: { distance: { data: [200] } }, tolerance: 0.5 };
  assert.deepEqual(
    (await r.register({ name: 'distance', bytes: v1, metadata: { healthCheck } })).manifest.healthCheck,
    healthCheck,
  );
  await assert.rejects(
    async () =>
      await r.register({
        name: 'd',
        bytes: v1,
        metadata: { healthCheck: { ...healthCheck, outputs: { nope: { data: [1] } } } },
      }),
    /healthCheck does not fit the model: .*unknown outputs \[nope\]/,
  );
  await assert.rejects(
    async () =>
      await r.register({
        name: 'd',
        bytes: v1,
        metadata: { healthCheck: { ...healthCheck, inputs: { other: grey } } },
      }),
    /inputs without golden data \[image\]/,
  );
  await assert.rejects(
    async () =>
      await r.register({ name: 'd', bytes: v1, metadata: { healthCheck: { ...healthCheck, tolerance: -1 } } }),
    /invalid metadata: healthCheck.tolerance/,
  );
  // Golden data too large for the 256 KiB envelope devices accept.
  await assert.rejects(
    async () =>
      await r.register({
        name: 'd',
        bytes: v1,
        metadata: {
          healthCheck: {
            ...healthCheck,
            inputs: { image: { shape: [1, 3, 4, 4], data: new Array<number>(48).fill(0) } },
          },
        },
      }),
    /healthCheck input "image" has shape \[1, 3, 4, 4\], the model takes \[batch, 3, 48, 64\]/,
  );
  // A batch of 3 golden images, each value with full precision: too large for the 256 KiB envelope devices accept.
  const huge = { shape: [3, 3, 48, 64], data: Array.from({ length: 3 * 3 * 48 * 64 }, (_, i) => Math.PI * (i + 1)) };
  await assert.rejects(
    async () =>
      await r.register({
        name: 'd',
        bytes: v1,
        metadata: { healthCheck: { ...healthCheck, inputs: { image: huge } } },
      }),
    (e: RegistryError) => e.status === 413 && /envelope limit/.test(e.message),
  );
});

test('registry metadata is stored beside the manifest, not signed into it; lineage.parent must be an earlier version', async (t) => {
  const { registry: r } = await registry(t);
  await r.register({ name: 'distance', bytes: v1 });
  const trainingSummary = { count: 100, features: { brightness: { edges: [0, 0.5, 1], counts: [40, 60] } } };
  const meta = {
    description: 'wall distance',
    labels: { team: 'vision' },
    metrics: { mae_mm: 12.5 },
    trainingSummary,
    lineage: { parent: 1, datasetId: 'ds-7', trigger: 'drift' },
  };
  const row = await r.register({ name: 'distance', bytes: v2, metadata: meta });
  assert.equal(row.description, 'wall distance');
  assert.deepEqual(row.labels, { team: 'vision' });
  assert.deepEqual(row.metrics, { mae_mm: 12.5 });
  assert.deepEqual(row.trainingSummary, trainingSummary);
  assert.deepEqual(row.lineage, { parent: 1, datasetId: 'ds-7', trigger: 'drift' });
  assert.equal(row.status, 'registered');
  assert.equal(JSON.stringify(row.manifest).includes('vision'), false, 'metadata is not in the signed manifest');
  await assert.rejects(
    async () => await r.register({ name: 'distance', bytes: v2, metadata: { lineage: { parent: 9 } } }),
    /lineage.parent v9 is not an earlier registered version/,
  );
  await assert.rejects(
    async () =>
      await r.register({
        name: 'distance',
        bytes: v2,
        metadata: { trainingSummary: { count: 1, features: { b: { edges: [1, 0], counts: [1] } } } },
      }),
    /edges must be strictly increasing/,
  );
});

test('the training summary and validation MAE are signed into the manifest (devices detect drift offline); a baseline too large to sign is left out', async (t) => {
  const { registry: r, key } = await registry(t);
  const trainingSummary = { count: 100, features: { brightness: { edges: [0, 0.5, 1], counts: [40, 60] } } };
  const row = await r.register({
    name: 'distance',
    bytes: v1,
    metadata: { trainingSummary, metrics: { validation_mae: 3.5 } },
  });
  const signed = verifyManifest(row.envelope, { trustedKeys: trustedKeyMap([key.publicKey]) });
  assert.ok(signed.ok);
  assert.deepEqual(signed.value.baseline, trainingSummary);
  assert.equal(signed.value.validationMae, 3.5);

  // 64 features × 256 bins of long decimals: well past the 256 KiB envelope.
  const edges = Array.from({ length: 257 }, (_, i) => i / 3 + 0.123456789);
  const counts = Array.from({ length: 256 }, (_, i) => 1_000_000 + i);
  const huge = {
    count: 1,
    features: Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`feature_${i}`, { edges, counts }])),
  };
  const big = await r.register({ name: 'distance', bytes: v2, metadata: { trainingSummary: huge } });
  const bigSigned = verifyManifest(big.envelope, { trustedKeys: trustedKeyMap([key.publicKey]) });
  assert.ok(bigSigned.ok);
  assert.equal(bigSigned.value.baseline, undefined);
  assert.deepEqual(big.trainingSummary, huge, 'the registry still keeps it for the server');
});

test('re-signing keeps version and artifact with a fresh expiry; a re-release is a new version of an old artifact with its lineage', async (t) => {
  const { registry: r, key } = await registry(t);
  const first = await r.register(
    { name: 'distance', bytes: v1, metadata: { description: 'one', metrics: { mae_mm: 10 } } },
    new Date(Date.now() - 20 * 86_400_000),
  );
  await r.register({ name: 'distance', bytes: v2 });
  const fresh = await r.resign('distance', 1);
  assert.equal(fresh.version, 1);
  assert.equal(fresh.manifest.artifact.sha256, first.manifest.artifact.sha256);
  assert.ok(Date.parse(fresh.manifest.expires) > Date.parse(first.manifest.expires));
  assert.ok(fresh.resignedAt !== null);
  assert.ok(verifyManifest(fresh.envelope, { trustedKeys: trustedKeyMap([key.publicKey]) }).ok);

  const back = await r.rerelease('distance', 1, { notes: 'v2 was worse' });
  assert.equal(back.version, 3);
  assert.equal(back.sha256, first.sha256);
  assert.deepEqual(back.manifest.inputs, first.manifest.inputs);
  assert.equal(back.description, 'one');
  assert.deepEqual(back.metrics, { mae_mm: 10 });
  assert.deepEqual(back.lineage, { parent: 1, trigger: 'rollback', notes: 'v2 was worse' });
  const verdict = verifyManifest(back.envelope, { trustedKeys: trustedKeyMap([key.publicKey]) });
  assert.ok(verdict.ok && verdict.value.version === 3);
});
