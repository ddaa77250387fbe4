import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chunkHashes, sha256Hex } from './artifact.js';
import {
  MANIFEST_SCHEMA,
  MAX_MODEL_VERSION,
  manifestSchema,
  parseModelVersion,
  type ManifestInput,
} from './manifest.js';

const bytes = new Uint8Array(5000).fill(3);

function base(): ManifestInput {
  return {
    schema: MANIFEST_SCHEMA,
    name: 'distance',
    version: 1,
    artifact: { sha256: sha256Hex(bytes), size: bytes.length, mediaType: 'application/onnx' },
    created: '2025-01-01T00:00:00Z',
    expires: '2026-01-01T00:00:00Z',
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
  assert.deepEqual(
    issues({ ...m, artifact: { ...m.artifact, chunkSize: 1024, chunks: chunkHashes(bytes, 1024) } }),
    [],
  );
  assert.match(
    issues({ ...m, artifact: { ...m.artifact, chunkSize: 1024 } }).join(),
    /artifact.chunks: chunkSize and chunks must be given together/,
  );
  assert.match(
    issues({ ...m, artifact: { ...m.artifact, chunkSize: 1024, chunks: chunkHashes(bytes, 1024).slice(1) } }).join(),
    /exactly ceil\(size \/ chunkSize\)/,
  );
  assert.match(
    issues({ ...m, artifact: { ...m.artifact, chunkSize: 1024, chunks: ['nothex', 'a', 'b', 'c', 'd'] } }).join(),
    /64 lowercase hex/,
  );
  assert.notDeepEqual(issues({ ...m, artifact: { ...m.artifact, chunkSize: 10, chunks: chunkHashes(bytes, 10) } }), []);
});

test('health check: golden inputs must match their shape, expected outputs must be non-empty and finite', () => {
  const healthCheck = {
    inputs: { x: { shape: [1, 2], data: [0.5, 1] } },
    outputs: { y: { data: [3.25] } },
    tolerance: 0.01,
  };
  assert.deepEqual(issues({ ...base(), healthCheck }), []);
  assert.match(
    issues({ ...base(), healthCheck: { ...healthCheck, inputs: { x: { shape: [1, 3], data: [0.5, 1] } } } }).join(),
    /healthCheck.inputs.x.data: data must hold exactly/,
  );
  assert.match(
    issues({ ...base(), healthCheck: { ...healthCheck, outputs: {} } }).join(),
    /at least one expected output/,
  );
  assert.notDeepEqual(issues({ ...base(), healthCheck: { ...healthCheck, tolerance: -1 } }), []);
  assert.notDeepEqual(issues({ ...base(), healthCheck: { ...healthCheck, outputs: { y: { data: [Infinity] } } } }), []);
});

test('a preprocessing or postprocessing field this version does not know is refused, never dropped', () => {
  const image = { kind: 'image', input: 'x', width: 2, height: 1 };
  assert.deepEqual(
    issues({ ...base(), preprocessing: image, postprocessing: { kind: 'regression', output: 'y' } }),
    [],
  );
  assert.match(
    issues({ ...base(), preprocessing: { ...image, sharpen: 2 } }).join(),
    /preprocessing: Unrecognized key: "sharpen"/,
  );
  assert.match(
    issues({ ...base(), postprocessing: { kind: 'argmax', output: 'y', topK: 5 } }).join(),
    /postprocessing: Unrecognized key: "topK"/,
  );
});

test('image preprocessing without kind or input says what to put there', () => {
  const image = { width: 2, height: 1 };
  assert.match(
    issues({ ...base(), preprocessing: image }).join(),
    /preprocessing.kind: set "kind": "image" \(a picture feeds the model; also give "input"\) or "kind": "none"/,
  );
  assert.match(
    issues({ ...base(), preprocessing: { kind: 'image', ...image } }).join(),
    /preprocessing.input: name the model input the image feeds, e.g. "input": "image"/,
  );
  assert.match(
    issues({ ...base(), preprocessing: { kind: 'image', input: '', ...image } }).join(),
    /preprocessing.input: name the model input/,
  );
});

test('versions are whole numbers from 1 to MAX_MODEL_VERSION; a device refuses a manifest above it', () => {
  assert.deepEqual(issues({ ...base(), version: MAX_MODEL_VERSION }), []);
  assert.notDeepEqual(issues({ ...base(), version: MAX_MODEL_VERSION + 1 }), []);
  assert.notDeepEqual(
    issues({ ...base(), version: Number.MAX_SAFE_INTEGER }),
    [],
    'the version that once locked a name out of updates',
  );
  assert.notDeepEqual(issues({ ...base(), version: 1.5 }), []);
});

test('parseModelVersion takes plain decimal digits only, and says what was wrong', () => {
  assert.deepEqual(parseModelVersion('1'), { ok: true, value: 1 });
  assert.deepEqual(parseModelVersion('1000'), { ok: true, value: 1000 });
  assert.deepEqual(parseModelVersion(String(MAX_MODEL_VERSION)), { ok: true, value: MAX_MODEL_VERSION });
  for (const text of ['1e3', '1.0', '+5', ' 5', '5 ', '0x10', '0', '01', '-1', '', 'NaN', 'Infinity', '١٢']) {
    const r = parseModelVersion(text);
    assert.equal(r.ok, false, text);
    if (!r.ok)
      assert.match(r.reason, new RegExp(`plain decimal digits .*got "${text.replace(/[+.]/g, '\\$&')}"`), text);
  }
  for (const text of [String(MAX_MODEL_VERSION + 1), '9007199254740991', '99999999999999999999']) {
    const r = parseModelVersion(text);
    assert.equal(r.ok, false, text);
    if (!r.ok)
      assert.match(r.reason, new RegExp(`version ${text} is above the highest allowed version ${MAX_MODEL_VERSION}`));
  }
});
