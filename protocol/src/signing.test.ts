import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkVersionCounter,
  generateKeyPair,
  keyId,
  signManifest,
  trustedKeyMap,
  verifyManifest,
  type SignedEnvelope,
} from './signing.js';
import { sha256Hex, verifyArtifact, ArtifactVerifier } from './artifact.js';
import { MANIFEST_SCHEMA, type ManifestInput } from './manifest.js';

const artifact = new Uint8Array(Buffer.from('pretend this is an onnx model'));
const trusted = generateKeyPair();
const stranger = generateKeyPair();
const now = new Date('2026-11-23T12:00:00Z');

function manifest(overrides: Partial<ManifestInput> = {}): ManifestInput {
  return {
    schema: MANIFEST_SCHEMA,
    name: 'distance',
    version: 3,
    artifact: { sha256: sha256Hex(artifact), size: artifact.length, mediaType: 'application/onnx' },
    created: '2026-11-23T00:00:00Z',
    expires: '2026-12-23T00:00:00Z',
    targets: { arch: ['x64', 'arm64'] },
    inputs: [{ name: 'image', dtype: 'float32', shape: ['batch', 3, 48, 64] }],
    outputs: [{ name: 'distance', dtype: 'float32', shape: ['batch', 1] }],
    ...overrides,
  };
}

const opts = { trustedKeys: trustedKeyMap([trusted.publicKey]), now, arch: 'x64' };

test('a manifest signed by a trusted key verifies and round-trips', () => {
  const res = verifyManifest(signManifest(manifest(), trusted), opts);
  assert.ok(res.ok, !res.ok ? res.reason : '');
  assert.equal(res.value.version, 3);
  assert.deepEqual(res.value.preprocessing, { kind: 'none' });
});

test('a tampered manifest is rejected: bad-signature', () => {
  const env = signManifest(manifest(), trusted);
  const payload = JSON.parse(Buffer.from(env.payload, 'base64').toString());
  payload.version = 99;
  const tampered: SignedEnvelope = { ...env, payload: Buffer.from(JSON.stringify(payload)).toString('base64') };
  const res = verifyManifest(tampered, opts);
  assert.equal(res.ok, false);
  assert.equal(!res.ok && res.code, 'bad-signature');
});

test('a signature forged under a trusted keyid is rejected: bad-signature', () => {
  const env = signManifest(manifest(), stranger);
  const forged: SignedEnvelope = {
    ...env,
    signatures: [{ keyid: keyId(trusted.publicKey), sig: env.signatures[0]!.sig }],
  };
  const res = verifyManifest(forged, opts);
  assert.equal(!res.ok && res.code, 'bad-signature');
});

test('a manifest signed by an unknown key is rejected: unknown-key', () => {
  const res = verifyManifest(signManifest(manifest(), stranger), opts);
  assert.equal(!res.ok && res.code, 'unknown-key');
  assert.match(!res.ok ? res.reason : '', /none of which this device trusts/);
});

test('an expired manifest is rejected: expired', () => {
  const env = signManifest(manifest({ created: '2026-10-01T00:00:00Z', expires: '2026-11-01T00:00:00Z' }), trusted);
  const res = verifyManifest(env, opts);
  assert.equal(!res.ok && res.code, 'expired');
});

test('a manifest for another arch or hardware is rejected: wrong-target', () => {
  const armOnly = signManifest(manifest({ targets: { arch: ['arm'] } }), trusted);
  assert.equal(((r) => !r.ok && r.code)(verifyManifest(armOnly, opts)), 'wrong-target');
  const jetson = signManifest(manifest({ targets: { arch: ['x64'], hardware: ['jetson-orin'] } }), trusted);
  assert.equal(((r) => !r.ok && r.code)(verifyManifest(jetson, { ...opts, hardware: 'raspberrypi4' })), 'wrong-target');
});

test('garbage envelopes are rejected with a reason, never thrown', () => {
  for (const bad of [null, 42, 'x', {}, { payloadType: 'x', payload: '!!', signatures: [] }]) {
    const res = verifyManifest(bad, opts);
    assert.equal(!res.ok && res.code, 'bad-envelope');
  }
});

test('signing refuses an invalid manifest', () => {
  assert.throws(() => signManifest(manifest({ version: 0 }), trusted), /invalid manifest/);
  assert.throws(() => signManifest(manifest({ expires: '2026-01-01T00:00:00Z' }), trusted), /expires/);
});

test('artifact: exact bytes pass; one flipped byte, extra or missing bytes fail', () => {
  const m = manifest().artifact;
  assert.ok(verifyArtifact(m, artifact).ok);
  const flipped = artifact.slice();
  flipped[5] = flipped[5]! ^ 0x01;
  assert.equal(((r) => !r.ok && r.code)(verifyArtifact(m, flipped)), 'hash-mismatch');
  assert.equal(((r) => !r.ok && r.code)(verifyArtifact(m, artifact.slice(0, -1))), 'size-mismatch');
  const v = new ArtifactVerifier(m);
  assert.ok(v.update(artifact).ok);
  assert.equal(((r) => !r.ok && r.code)(v.update(new Uint8Array([1]))), 'too-long');
});

test('anti-rollback: older versions and reused version numbers are refused', () => {
  const m = { name: 'distance', version: 3, artifact: { sha256: 'a'.repeat(64) } } as const;
  assert.deepEqual(checkVersionCounter(m, undefined), { ok: true, value: 'new' });
  assert.deepEqual(checkVersionCounter(m, { version: 2, sha256: 'b'.repeat(64) }), { ok: true, value: 'new' });
  assert.deepEqual(checkVersionCounter(m, { version: 3, sha256: 'a'.repeat(64) }), { ok: true, value: 'same' });
  assert.equal(((r) => !r.ok && r.code)(checkVersionCounter(m, { version: 4, sha256: 'c'.repeat(64) })), 'rollback');
  assert.equal(
    ((r) => !r.ok && r.code)(checkVersionCounter(m, { version: 3, sha256: 'c'.repeat(64) })),
    'version-reuse',
  );
});
