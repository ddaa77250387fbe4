import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SAMPLE_MODELS } from '@edgeloop/models';
import { sha256Hex, trustedKeyMap, verifyManifest } from '@edgeloop/protocol';
import { loadOrCreateSigningKey } from '../keys/signing-key.js';
import { openFleetDb } from '../store/fleet-db.js';
import { ModelStore } from '../store/model-store.js';
import { ArtifactStore } from './artifact-store.js';
import { ModelRegistry, type RegistryError } from './model-registry.js';

function registry(t: { after: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-registry-'));
  const db = openFleetDb(join(dir, 'fleet.db'));
  t.after(() => { db.close(); rmSync(dir, { recursive: true, force: true }); });
  const key = loadOrCreateSigningKey(join(dir, 'signing.key'));
  return { key, dir, registry: new ModelRegistry(new ModelStore(db), new ArtifactStore(join(dir, 'artifacts')), key, 30 * 86_400_000) };
}

const v1 = readFileSync(SAMPLE_MODELS.v1);
const v2 = readFileSync(SAMPLE_MODELS.v2);

test('registering signs a manifest whose tensor spec comes from the model itself', (t) => {
  const { registry: r, key, dir } = registry(t);
  const row = r.register({ name: 'distance', bytes: v1 });
  assert.equal(row.version, 1);
  assert.equal(row.sha256, sha256Hex(v1));
  assert.deepEqual(readFileSync(join(dir, 'artifacts', row.sha256)), v1);
  const verdict = verifyManifest(row.envelope, { trustedKeys: trustedKeyMap([key.publicKey]) });
  assert.ok(verdict.ok);
  assert.deepEqual(verdict.value.inputs, [{ name: 'image', dtype: 'float32', shape: ['batch', 3, 48, 64] }]);
  assert.deepEqual(verdict.value.targets.arch, ['x64', 'arm64', 'arm']);
});

test('versions only go up per model name', (t) => {
  const { registry: r } = registry(t);
  assert.equal(r.register({ name: 'distance', bytes: v1 }).version, 1);
  assert.equal(r.register({ name: 'distance', bytes: v2, version: 5 }).version, 5);
  assert.equal(r.register({ name: 'distance', bytes: v1 }).version, 6, 'same bytes again get a new version');
  assert.throws(() => r.register({ name: 'distance', bytes: v2, version: 4 }), (e: RegistryError) => e.status === 409 && /not newer/.test(e.message));
  assert.equal(r.register({ name: 'other', bytes: v2 }).version, 1, 'counters are per name');
});

test('metadata is validated against the model', (t) => {
  const { registry: r } = registry(t);
  assert.throws(() => r.register({ name: 'd', bytes: v1, metadata: { outputs: [{ name: 'nope', dtype: 'float32', shape: [1] }] } }), /output "nope"/);
  assert.throws(() => r.register({ name: 'd', bytes: v1, metadata: { postprocessing: { kind: 'regression', output: 'x' } } }), /postprocessing.output "x"/);
  assert.throws(() => r.register({ name: 'd', bytes: v1, metadata: { surprise: true } }), /invalid metadata/);
  assert.throws(() => r.register({ name: 'd', bytes: Buffer.from('text') }), /not an ONNX model/);
});
