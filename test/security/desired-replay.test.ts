/**
 * Replayed desired states: an attacker who once captured a validly signed desired state of a
 * device (here: the one from before the device was given a model, which would remove it) sends it
 * again. The device persists the counter of the last state it accepted, so the replay is refused,
 * also after an agent restart; the same state delivered again (the retained copy after every
 * reconnect) is not a replay and is applied quietly. Real agent, real fleet server and broker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { deviceTopic } from '@edgeloop/protocol';
import { waitFor } from '../support/fixtures.js';
import { TEST_MQTT_SERVER } from '../support/fleet-client.js';
import { startTestFleet, until } from '../support/in-process-fleet.js';
import { count, desiredRefusals, servingVersion } from './signing-support.js';

const DEVICE = 'sec-replay-pi';

test(
  'an older validly signed desired state is refused, also after a restart; the same one again is not',
  { timeout: 120_000 },
  async (t) => {
    const fleet = await startTestFleet();
    t.after(() => fleet.close());
    const { server } = fleet;
    // A watcher on the fleet's broker user records every desired state the device is sent.
    const spy = await mqtt.connectAsync(server.mqttUrl, { clientId: 'sec-replay-spy', ...TEST_MQTT_SERVER });
    t.after(() => spy.endAsync());
    const seen: Buffer[] = [];
    spy.on('message', (topic, payload) => {
      if (topic === deviceTopic(DEVICE, 'desired') && payload.length) seen.push(Buffer.from(payload));
    });
    await spy.subscribeAsync(deviceTopic(DEVICE, 'desired'), { qos: 1 });

    let agent = await fleet.startAgent(DEVICE);
    await until('agent birth', async () => (await server.devices.get(DEVICE))?.online === true);
    // Sent on its birth: no model assigned yet. Replayed later, it would remove the model.
    const captured = await waitFor('the first desired state', () => seen[0]);
    await fleet.deploySample(DEVICE);
    assert.equal(await servingVersion(agent), 1);

    await t.test('the captured older state is refused', async () => {
      await server.publish(deviceTopic(DEVICE, 'desired'), captured);
      await waitFor(
        'replay refused',
        async () =>
          (await desiredRefusals(agent, 'replay')) === 1 ||
          (await count(server, DEVICE, 1, 'removed')) > 0 ||
          undefined,
      );
      assert.equal(await servingVersion(agent), 1);
      assert.equal(await count(server, DEVICE, 1, 'removed'), 0);
    });

    await t.test('the last accepted state delivered again is applied quietly', async () => {
      // The spy also sees what this test publishes: the newest one that is not the captured replay.
      const latest = seen.filter((m) => !m.equals(captured)).at(-1)!;
      await server.publish(deviceTopic(DEVICE, 'desired'), latest);
      await server.publish(deviceTopic(DEVICE, 'desired'), captured); // a marker: handled after the redelivery
      await waitFor('marker refused', async () => (await desiredRefusals(agent, 'replay')) >= 2 || undefined);
      assert.equal(await desiredRefusals(agent, 'replay'), 2, 'only the marker was refused, not the redelivery');
      assert.equal(await servingVersion(agent), 1);
      assert.equal(await count(server, DEVICE, 1, 'active'), 1, 'the model was not loaded again');
    });

    await t.test('after an agent restart the counter still holds', async () => {
      // Counted before the restart: the new session's birth may be answered before the agent is back.
      const beforeRestart = seen.length;
      await agent.close();
      agent = await fleet.startAgent(DEVICE);
      assert.equal(await servingVersion(agent), 1, 'restored after the restart');
      await until('the restarted agent online', async () => (await server.devices.get(DEVICE))?.online === true);
      await waitFor('a fresh desired state for the new session', () => seen.length > beforeRestart || undefined);
      await server.publish(deviceTopic(DEVICE, 'desired'), captured);
      await waitFor(
        'replay refused after the restart',
        async () => (await desiredRefusals(agent, 'replay')) === 1 || undefined,
      );
      assert.equal(await servingVersion(agent), 1);
      assert.equal(await count(server, DEVICE, 1, 'removed'), 0);
    });
  },
);
