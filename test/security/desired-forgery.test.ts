/**
 * Forged desired states: whoever can publish on a device's `desired` topic (a misconfigured or
 * compromised external broker, someone on the network path) tries to make it drop its models
 * or take a state meant for someone else. A real agent serving the sample model on a real fleet
 * server and broker; every forgery must be refused whole, counted in the agent's /metrics, and
 * the model must keep answering.
 *
 * - unsigned `{"models": []}` (the old, unsigned format, and the bare minimum);
 * - a state signed by a key the fleet's keyset does not list, and one carrying a keyset signed
 *   by a root the device does not trust;
 * - a validly signed state with one field changed (tampered);
 * - a validly signed state for another device of the same fleet.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildKeyset,
  deviceTopic,
  encodeMessage,
  generateKeyPair,
  signDesiredState,
  signKeyset,
  type DesiredState,
} from '@edgeloop/protocol';
import { sample, waitFor } from '../support/fixtures.js';
import { startTestFleet } from '../support/in-process-fleet.js';
import { count, desiredRefusals, metadata, reported, servingVersion } from './signing-support.js';

const DEVICE = 'sec-desired-pi';
const OTHER = 'sec-desired-other';

test('forged desired states are refused and the device keeps serving', { timeout: 120_000 }, async (t) => {
  const fleet = await startTestFleet();
  t.after(() => fleet.close());
  const { server } = fleet;
  const agent = await fleet.startAgent(DEVICE);
  await fleet.deploySample(DEVICE);
  assert.equal(await servingVersion(agent), 1);
  const topic = deviceTopic(DEVICE, 'desired');

  /** Publishes the forgery and waits until the agent counted it under `code`. */
  const refusedAs = async (code: string, payload: Buffer) => {
    const before = await desiredRefusals(agent, code);
    await server.publish(topic, payload, true);
    // Whichever comes first: the refusal counted, or (protection gone) the model removed.
    await waitFor(
      `desired state refused as ${code}`,
      async () =>
        (await desiredRefusals(agent, code)) > before || (await count(server, DEVICE, 1, 'removed')) > 0 || undefined,
    );
    assert.equal(await servingVersion(agent), 1, 'the model keeps answering');
    assert.equal(await count(server, DEVICE, 1, 'removed'), 0, 'nothing was removed');
  };
  /** A desired state removing every model, as the attacker would like it. */
  const keyset = (await server.keys.keysetEnvelope())!;
  const removeAll = (over: Partial<DesiredState> = {}): DesiredState => ({
    v: 2,
    deviceId: DEVICE,
    counter: Date.now() * 10,
    issuedAt: Date.now(),
    models: [],
    keys: keyset,
    ...over,
  });

  await t.test('unsigned {"models": []}', async () => {
    await refusedAs('unsigned', Buffer.from('{"models": []}'));
    await refusedAs('unsigned', encodeMessage({ v: 1, deviceId: DEVICE, issuedAt: Date.now(), models: [] }));
  });

  await t.test('signed by a key the keyset does not list', async () => {
    await refusedAs('unknown-key', encodeMessage(signDesiredState(removeAll(), generateKeyPair())));
  });

  await t.test('carrying a keyset signed by a root the device does not trust', async () => {
    const attacker = generateKeyPair();
    const keys = signKeyset(buildKeyset(99, [attacker.publicKey]), generateKeyPair());
    await refusedAs('bad-keyset', encodeMessage(signDesiredState(removeAll({ keys }), attacker)));
  });

  await t.test('one field changed after signing', async () => {
    const genuine = await server.deployments.issue(DEVICE, { models: [] });
    const payload = Buffer.from(genuine.payload, 'base64').toString('utf8');
    const tampered = payload.replace(/"counter":(\d+)/, (_, n: string) => `"counter":${Number(n) + 1}`);
    assert.notEqual(tampered, payload);
    await refusedAs('bad-signature', encodeMessage({ ...genuine, payload: Buffer.from(tampered).toString('base64') }));
  });

  await t.test('a validly signed state for another device', async () => {
    await fleet.enroll(OTHER);
    await refusedAs('wrong-device', encodeMessage(await server.deployments.issue(OTHER, { models: [] })));
  });

  await t.test('the fleet itself is still obeyed afterwards', async () => {
    await server.registry.register({ name: 'distance', bytes: sample.v2, metadata });
    await server.deployments.assign('distance', 2, [DEVICE]);
    await reported(server, DEVICE, 2, 'active');
    assert.equal(await servingVersion(agent), 2);
    assert.equal(await desiredRefusals(agent, 'replay'), 0, "the fleet's own states were never taken for replays");
  });
});
