import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkDesiredCounter,
  decodeSignedDesiredState,
  DesiredStateTooLargeError,
  desiredStateDigest,
  openDesiredState,
  peekDesiredKeyset,
  signDesiredState,
} from './desired-state.js';
import { buildKeyset, manifestKeysOf, signKeyset } from './keyset.js';
import { MANIFEST_SCHEMA } from './manifest.js';
import type { DesiredState } from './messages.js';
import { generateKeyPair, signManifest, signPayload, verifyManifest } from './signing.js';

const root = generateKeyPair();
const key = generateKeyPair();
const keys = signKeyset(buildKeyset(1, [key.publicKey]), root);
const signingKeys = manifestKeysOf(buildKeyset(1, [key.publicKey]));
const state = (over: Partial<DesiredState> = {}): DesiredState => ({
  v: 2,
  deviceId: 'pi-1',
  counter: 10,
  issuedAt: 1,
  models: [],
  keys,
  ...over,
});
const wire = (x: unknown) => Buffer.from(JSON.stringify(x));

test('a signed desired state opens for its device with a key of the keyset it carries', () => {
  const envelope = signDesiredState(state(), key);
  const decoded = decodeSignedDesiredState(wire(envelope));
  assert.ok(decoded.ok);
  assert.deepEqual(peekDesiredKeyset(decoded.value), keys);
  const opened = openDesiredState(decoded.value, signingKeys, 'pi-1');
  assert.ok(opened.ok);
  assert.equal(opened.value.counter, 10);
  const other = openDesiredState(envelope, signingKeys, 'pi-2');
  assert.equal(other.ok ? 'opened' : other.code, 'wrong-device');
  const stranger = openDesiredState(envelope, manifestKeysOf(buildKeyset(1, [generateKeyPair().publicKey])), 'pi-1');
  assert.equal(stranger.ok ? 'opened' : stranger.code, 'unknown-key');
});

test('unsigned states, tampering and other document types are refused', () => {
  const unsigned = decodeSignedDesiredState(wire({ models: [] }));
  assert.equal(unsigned.ok ? 'decoded' : unsigned.code, 'unsigned');
  const garbage = decodeSignedDesiredState(Buffer.from('[1,2]'));
  assert.equal(garbage.ok ? 'decoded' : garbage.code, 'malformed');

  const envelope = signDesiredState(state(), key);
  const payload = Buffer.from(envelope.payload, 'base64').toString().replace('"counter":10', '"counter":11');
  const tampered = openDesiredState(
    { ...envelope, payload: Buffer.from(payload).toString('base64') },
    signingKeys,
    'pi-1',
  );
  assert.equal(tampered.ok ? 'opened' : tampered.code, 'bad-signature');

  // A manifest signature cannot pass as a desired state, nor the other way round.
  const manifest = signManifest(
    {
      schema: MANIFEST_SCHEMA,
      name: 'm',
      version: 1,
      artifact: { sha256: '0'.repeat(64), size: 1, mediaType: 'application/onnx' },
      created: new Date().toISOString(),
      expires: new Date(Date.now() + 86_400_000).toISOString(),
      targets: { arch: ['x64'] },
      inputs: [{ name: 'x', dtype: 'float32', shape: [1] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1] }],
    },
    key,
  );
  const asDesired = decodeSignedDesiredState(wire(manifest));
  assert.equal(asDesired.ok ? 'decoded' : asDesired.code, 'malformed');
  const asManifest = verifyManifest(envelope, { trustedKeys: signingKeys });
  assert.equal(asManifest.ok ? 'verified' : asManifest.code, 'bad-envelope');
});

test('the counter must grow; the identical state again is not a replay', () => {
  const a = signDesiredState(state({ counter: 10 }), key);
  const b = signDesiredState(state({ counter: 10, issuedAt: 2 }), key);
  const last = { counter: 10, digest: desiredStateDigest(a) };
  assert.deepEqual(checkDesiredCounter(11, 'x', last), { ok: true, value: 'new' });
  assert.deepEqual(checkDesiredCounter(10, desiredStateDigest(a), last), { ok: true, value: 'same' });
  assert.equal(checkDesiredCounter(10, desiredStateDigest(b), last).ok, false, 'same counter, other content');
  assert.equal(checkDesiredCounter(9, 'x', last).ok, false, 'older');
  assert.deepEqual(checkDesiredCounter(1, 'x', undefined), { ok: true, value: 'new' });
});

test('an invalid state is never signed', () => {
  assert.throws(
    () => signDesiredState({ ...state(), deviceId: 'no spaces allowed' }, key),
    /refusing to sign an invalid desired state/,
  );
});

test('a desired state larger than devices accept is refused at signing, so it is never sent', () => {
  // Manifests of image models with health-check tensors come close to the 256 KiB envelope cap.
  const manifest = signPayload('application/vnd.edgeloop.manifest+json', Buffer.alloc(180 * 1024, 0x61), key);
  const models = Array.from({ length: 16 }, () => ({
    manifest,
    artifactUrl: 'https://fleet.local/api/v1/artifacts/x',
    role: 'serve' as const,
  }));
  assert.throws(
    () => signDesiredState(state({ models }), key),
    (err: unknown) => err instanceof DesiredStateTooLargeError && /16 models.*assign fewer models/.test(err.message),
  );
  const fits = signDesiredState(state({ models: models.slice(0, 4) }), key);
  assert.ok(decodeSignedDesiredState(wire(fits)).ok, 'four such models still fit');
});
