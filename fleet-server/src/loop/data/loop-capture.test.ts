import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { buildReferenceModel } from '@edgeloop/models';
import {
  buildKeyset,
  decodeSignedDesiredState,
  deviceTopic,
  keyId,
  openDesiredState,
  signKeyset,
  type DesiredState,
} from '@edgeloop/protocol';
import { Deployments } from '../../deploy/deployments.js';
import { loadOrCreateSigningKey } from '../../keys/signing-key.js';
import { ArtifactStore } from '../../registry/artifact-store.js';
import { ModelRegistry } from '../../registry/model-registry.js';
import { SampleStore } from '../../samples/sample-store.js';
import { openFleetStore } from '../../store/open-fleet-store.js';
import { birth } from '../../store/store-suite/fixtures.js';
import { CAPTURE_UPLOAD_GRACE_MS, openCapture, widen } from './loop-capture.js';

const MIN = 60_000;

/** The server's desired-state path as it runs: real store, samples, deployments and signing; the broker a recorder. */
async function setup(t: { after: (fn: () => Promise<void> | void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-loop-capture-'));
  const store = await openFleetStore({ sqlitePath: join(dir, 'fleet.db') });
  const key = loadOrCreateSigningKey(join(dir, 'signing.key'));
  const registry = new ModelRegistry(store.models, new ArtifactStore(join(dir, 'artifacts')), key, 30 * 86_400_000);
  const samples = new SampleStore(store, new ArtifactStore(join(dir, 'samples')));
  const keyset = signKeyset(buildKeyset(1, [key.publicKey]), key);
  const sent = new Map<string, { payload: Buffer; retain: boolean }>();
  const deployments = new Deployments(
    store,
    () => 'http://127.0.0.1:1',
    async (topic, payload, retain) => void sent.set(topic, { payload, retain }),
    pino({ level: 'silent' }),
    (d) => samples.requests(d),
    async () => keyset,
    async () => key,
  );
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await registry.register({ name: 'distance', bytes: buildReferenceModel({ seed: 1 }) });
  for (const id of ['pi-1', 'pi-2', 'pi-3', 'pi-4']) await store.devices.recordBirth(birth(id, 1));
  // pi-1, pi-2 serve distance, pi-3 runs it as a shadow, pi-4 runs nothing of it.
  await store.assignments.set('pi-1', 'distance', 1);
  await store.assignments.set('pi-2', 'distance', 1);
  await store.shadows.set('pi-3', 'distance', 1);
  /** The desired state last published to the device, its signature checked as the agent checks it. */
  const desired = (deviceId: string): DesiredState | undefined => {
    const message = sent.get(deviceTopic(deviceId, 'desired'));
    if (!message) return undefined;
    assert.equal(message.retain, true);
    const envelope = decodeSignedDesiredState(message.payload);
    assert.ok(envelope.ok);
    const opened = openDesiredState(envelope.value, new Map([[keyId(key.publicKey), key.publicKey]]), deviceId);
    assert.ok(opened.ok, opened.ok ? '' : opened.reason);
    return opened.value;
  };
  return { store, samples, sent, desired, deps: { store, samples, deployments, now: () => Date.now() } };
}

test('openCapture asks the devices to keep every Nth input of the model and to upload them, in their signed desired state', async (t) => {
  const { samples, desired, deps } = await setup(t);
  const until = Date.now() + 10 * MIN;
  const opened = await openCapture(deps, { model: 'distance', devices: ['pi-1', 'pi-2', 'ghost'], everyN: 2, until });
  assert.deepEqual(opened.devices, ['pi-1', 'pi-2']);
  assert.deepEqual(opened.unknown, ['ghost']);
  assert.deepEqual(opened.capture, { until, everyN: 2, models: ['distance'] });
  assert.equal(opened.uploadUntil, until + CAPTURE_UPLOAD_GRACE_MS);

  for (const d of ['pi-1', 'pi-2']) {
    const state = desired(d)!;
    assert.deepEqual(state.sampleCapture, { until, everyN: 2, models: ['distance'] });
    assert.equal(state.sampleUploadUntil, until + CAPTURE_UPLOAD_GRACE_MS);
    assert.deepEqual(
      state.models.map((m) => m.role),
      ['serve'],
      'the models it runs are still in it',
    );
  }
  assert.equal(desired('pi-3'), undefined, 'devices not named are left alone');
  assert.deepEqual(await samples.requests('pi-1'), {
    uploadUntil: until + CAPTURE_UPLOAD_GRACE_MS,
    capture: opened.capture,
  });
});

test('openCapture on every device: those the model is assigned to, serving or shadowing', async (t) => {
  const { desired, deps } = await setup(t);
  const until = Date.now() + 5 * MIN;
  const opened = await openCapture(deps, { model: 'distance', everyN: 1, until });
  assert.deepEqual(opened.devices, ['pi-1', 'pi-2', 'pi-3']);
  assert.equal(desired('pi-3')!.sampleCapture?.everyN, 1);
  assert.equal(desired('pi-4'), undefined);
});

test('a window already open is widened, never narrowed; a longer upload request stays', async (t) => {
  const { samples, desired, deps } = await setup(t);
  const now = Date.now();
  // An operator's capture of every input of all models for an hour, and uploads for two.
  await samples.setCapture('pi-1', { until: now + 60 * MIN, everyN: 1 });
  await samples.setUploadUntil('pi-1', now + 120 * MIN);
  // An earlier window that has passed counts for nothing.
  await samples.setCapture('pi-2', { until: now - MIN, everyN: 1, models: ['other'] });

  await openCapture(deps, { model: 'distance', devices: ['pi-1', 'pi-2'], everyN: 5, until: now + 10 * MIN });
  const one = desired('pi-1')!;
  assert.deepEqual(one.sampleCapture, { until: now + 60 * MIN, everyN: 1 });
  assert.equal(one.sampleUploadUntil, now + 120 * MIN);
  assert.deepEqual(desired('pi-2')!.sampleCapture, { until: now + 10 * MIN, everyN: 5, models: ['distance'] });

  assert.deepEqual(widen({ until: 5, everyN: 3, models: ['a'] }, { until: 4, everyN: 4, models: ['b', 'a'] }), {
    until: 5,
    everyN: 3,
    models: ['a', 'b'],
  });
  const many = Array.from({ length: 16 }, (_, i) => `m${i}`);
  assert.deepEqual(widen({ until: 1, everyN: 1, models: many }, { until: 1, everyN: 1, models: ['x'] }), {
    until: 1,
    everyN: 1,
  });
});

test('openCapture refuses what a device would drop or what captures nothing, saying what to give', async (t) => {
  const { sent, deps } = await setup(t);
  const later = Date.now() + MIN;
  await assert.rejects(openCapture(deps, { model: 'nope', everyN: 1, until: later }), /no model named "nope"/);
  await assert.rejects(
    openCapture(deps, { model: 'distance', everyN: 1, until: Date.now() - 1 }),
    /not after now .* give a later until/,
  );
  await assert.rejects(openCapture(deps, { model: 'distance', everyN: 0, until: later }), /everyN must be/);
  const none = await openCapture(deps, { model: 'distance', devices: ['ghost'], everyN: 1, until: later });
  assert.deepEqual([none.devices, none.unknown], [[], ['ghost']]);
  assert.equal(sent.size, 0, 'nothing published');
});
