/**
 * Several fleet servers on one real Mosquitto: their buses subscribe as one shared group, so each
 * device message reaches exactly one of them, and retained births (which a shared subscription
 * never gets) are replayed to the server that asks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { deviceTopic } from '@edgeloop/protocol';
import { FleetBus, busSubscriptions } from '@edgeloop/fleet-server/testing';
import { tempDir, waitFor } from '../support/fixtures.js';
import { connectOrThrow, startMosquitto, which } from '../support/mosquitto.js';

const log = pino({ level: 'silent' });

test(
  'shared subscriptions: each device message reaches one bus of the group; retained presence is replayed on request',
  { timeout: 60_000 },
  async (t) => {
    if (!(await which('mosquitto'))) {
      const msg = '*** mosquitto NOT INSTALLED: skipping the shared-subscription test (apt-get install mosquitto) ***';
      console.warn(msg);
      t.skip(msg);
      return;
    }
    const tmp = tempDir('shared-subs');
    const broker = await startMosquitto(tmp.dir);
    const device = await connectOrThrow(broker.url, { clientId: 'shared-dev' });
    const buses: FleetBus[] = [];
    t.after(async () => {
      for (const b of buses) await b.close();
      await device.endAsync();
      await broker.stop();
      tmp.cleanup();
    });

    // A device that was born before any server listened: its birth is retained on presence.
    await device.publishAsync(deviceTopic('early-dev', 'presence'), Buffer.from('{"early":true}'), {
      qos: 1,
      retain: true,
    });

    const got = [new Map<string, string[]>(), new Map<string, string[]>()];
    const record = (i: number, channel: string) => (deviceId: string, payload: Buffer) => {
      const m = got[i]!;
      m.set(channel, [...(m.get(channel) ?? []), `${deviceId}:${payload.toString()}`]);
    };
    for (const i of [0, 1]) {
      const bus = await FleetBus.connect(broker.url, log, {}, { shareGroup: 'edgeloop' });
      buses.push(bus);
      bus.on('telemetry', record(i, 'telemetry'));
      bus.on('presence', record(i, 'presence'));
    }
    const all = (channel: string) => got.flatMap((m) => m.get(channel) ?? []);
    assert.deepEqual(all('presence'), [], 'a shared subscription gets no retained message');

    const sent: string[] = [];
    for (let n = 0; n < 40; n++) {
      const id = `dev-${n % 4}`;
      await device.publishAsync(deviceTopic(id, 'telemetry'), Buffer.from(String(n)), { qos: 1 });
      sent.push(`${id}:${n}`);
    }
    await waitFor('every telemetry message taken', () => all('telemetry').length >= sent.length || undefined);
    // Whatever the broker sends a shared subscription on subscribe, a bus does not take it as news.
    assert.deepEqual(all('presence'), [], 'no retained presence taken outside a replay');
    assert.deepEqual([...all('telemetry')].sort(), [...sent].sort(), 'each message reached exactly one bus');
    for (const i of [0, 1]) assert.ok((got[i]!.get('telemetry') ?? []).length > 0, `bus ${i} took a share`);

    await buses[0]!.replayRetainedPresence();
    assert.deepEqual(got[0]!.get('presence'), ['early-dev:{"early":true}'], 'the asking bus got the retained birth');
    assert.deepEqual(got[1]!.get('presence') ?? [], [], 'the other did not');

    // After the replay the plain subscription is gone again: a live birth is taken once.
    await device.publishAsync(deviceTopic('late-dev', 'presence'), Buffer.from('{"late":true}'), { qos: 1 });
    await waitFor('the live birth taken', () => all('presence').some((p) => p.startsWith('late-dev')) || undefined);
    await buses[0]!.publish(deviceTopic('late-dev', 'ack'), Buffer.from('{}')); // a round trip: anything queued has arrived
    await buses[1]!.publish(deviceTopic('late-dev', 'ack'), Buffer.from('{}'));
    assert.equal(all('presence').filter((p) => p.startsWith('late-dev')).length, 1, 'one bus took the live birth');
  },
);

test('a shared-subscription group name must be one topic level', () => {
  assert.deepEqual(busSubscriptions(undefined), ['edgeloop/v1/#']);
  assert.ok(busSubscriptions('fleet-a').every((s) => s.startsWith('$share/fleet-a/edgeloop/v1/devices/+/')));
  for (const bad of ['a/b', '+', '#', '']) assert.throws(() => busSubscriptions(bad), /shared-subscription group/);
});
