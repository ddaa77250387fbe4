import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chunkHashes, sha256Hex } from './artifact.js';
import { MANIFEST_SCHEMA, manifestSchema, type ManifestInput } from './manifest.js';

const bytes = new Uint8Array(5000).fill(3);

function base(): ManifestInput {
  return {
    schema: MANIFEST_SCHEMA, name: 'distance', version: 1,
    artifact: { sha256: sha256Hex(bytes), size: bytes.length, mediaType: 'application/onnx' },
    created: '2025-01-01T00:00:00Z', expires: '2026-01-01T00:00:00Z',
    targets: { arch: ['x64'] },
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, 1] }],
  };
}

const issues = (input: unknown) => {
  const r = manifestSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

test('manifests without chunk hashes or a health check (older ones) stay valid', () => {
  assert.deepEqual(issues(base()), []);
});

test('chunk hashes: chunkSize and chunks come together, one hash per chunk', () => {
  const m = base();
  assert.deepEqual(issues({ ...m, artifact: { ...m.artifact, chunkSize: 1024, chunks: chunkHashes(bytes, 1024) } }), []);
  assert.match(issues({ ...m, artifact: { ...m.artifact, chunkSize: 1024 } }).join(), /artifact.chunks: chunkSize and chunks must be given together/);
  assert.match(issues({ ...m, artifact: { ...m.artifact, chunkSize: 1024, chunks: chunkHashes(bytes, 1024).slice(1) } }).join(), /exactly ceil\(size \/ chunkSize\)/);
  assert.match(issues({ ...m, artifact: { ...m.artifact, chunkSize: 1024, chunks: ['nothex', 'a', 'b', 'c', 'd'] } }).join(), /64 lowercase hex/);
  assert.notDeepEqual(issues({ ...m, artifact: { ...m.artifact, chunkSize: 10, chunks: chunkHashes(bytes, 10) } }), []);
});

test('health check: golden inputs must match their shape, expected outputs must be non-empty and finite', () => {
  const healthCheck = { inputs: { x: { shape: [1, 2], data: [0.5, 1] } }, outputs: { y: { data: [3.25] } }, tolerance: 0.01 };
  assert.deepEqual(issues({ ...base(), healthCheck }), []);
  assert.match(issues({ ...base(), healthCheck: { ...healthCheck, inputs: { x: { shape: [1, 3], data: [0.5, 1] } } } }).join(), /healthCheck.inputs.x.data: data must hold exactly/);
  assert.match(issues({ ...base(), healthCheck: { ...healthCheck, outputs: {} } }).join(), /at least one expected output/);
  assert.notDeepEqual(issues({ ...base(), healthCheck: { ...healthCheck, tolerance: -1 } }), []);
  assert.notDeepEqual(issues({ ...base(), healthCheck: { ...healthCheck, outputs: { y: { data: [Infinity] } } } }), []);
});

test('a preprocessing or postprocessing field this version does not know is refused, never dropped', () => {
  const image = { kind: 'image', input: 'x', width: 2, height: 1 };
  assert.deepEqual(issues({ ...base(), preprocessing: image, postprocessing: { kind: 'regression', output: 'y' } }), []);
  assert.match(issues({ ...base(), preprocessing: { ...image, sharpen: 2 } }).join(), /preprocessing: Unrecognized key: "sharpen"/);
  assert.match(issues({ ...base(), postprocessing: { kind: 'argmax', output: 'y', topK: 5 } }).join(), /postprocessing: Unrecognized key: "topK"/);
});
