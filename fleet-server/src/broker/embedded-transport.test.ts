import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { deviceTopic } from '@edgeloop/protocol';
import { IdentityService } from '../identity/identity-service.js';
import { openFleetStore } from '../store/open-fleet-store.js';
import { startEmbeddedBroker, DEFAULT_BROKER_LIMITS, type EmbeddedBroker } from './embedded-broker.js';
import type { IntakeLimits } from './intake-flow.js';

/** A real broker on a free port, its identity on a real SQLite file, and a logged-in device. */
async function setup(t: TestContext, intake?: IntakeLimits) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-transport-'));
  const store = await openFleetStore({ sqlitePath: join(dir, 'fleet.db') });
  const identity = new IdentityService(store, () => ({ mqttUrl: '', httpUrl: '', trustedKeys: [] }));
  const broker: EmbeddedBroker = await startEmbeddedBroker(
    '127.0.0.1',
    0,
    pino({ level: 'silent' }),
    { identity, serverPassword: 'not-used-by-the-server-itself' },
    DEFAULT_BROKER_LIMITS,
    undefined,
    intake ? { limits: intake } : undefined,
  );
  const password = await identity.issueCredential('pi-1');
  const device = await mqtt.connectAsync(broker.url, {
    clientId: 'pi-1',
    username: 'pi-1',
    password,
    reconnectPeriod: 0,
  });
  t.after(async () => {
    await device.endAsync(true);
    await broker.transport.close();
    await broker.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { broker, device };
}

async function until(what: string, probe: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('device publishes reach the channel handler without a broker client; answers reach the device', async (t) => {
  const { broker, device } = await setup(t);
  const seen: string[] = [];
  broker.transport.on('telemetry', async (deviceId, payload) => {
    seen.push(`${deviceId}:${payload.toString()}`);
    if (payload.toString() === 'bad') throw new Error('malformed batch');
    await broker.transport.publish(deviceTopic(deviceId, 'ack'), Buffer.from(`ack ${payload.toString()}`));
  });
  const acks: string[] = [];
  device.on('message', (_topic, payload) => acks.push(payload.toString()));
  await device.subscribeAsync(deviceTopic('pi-1', 'ack'), { qos: 1 });

  await device.publishAsync(deviceTopic('pi-1', 'telemetry'), Buffer.from('bad'), { qos: 1 });
  await device.publishAsync(deviceTopic('pi-1', 'telemetry'), Buffer.from('1'), { qos: 1 });
  await until('the ack', () => acks.length === 1);
  assert.deepEqual(seen, ['pi-1:bad', 'pi-1:1'], 'a handler failure drops that message only');
  assert.deepEqual(acks, ['ack 1']);
  assert.equal(broker.metrics().connections, 1, 'the device is the only client');
});

test('a device whose messages are still being handled is read no further until they are done', async (t) => {
  const { broker, device } = await setup(t, { perDevice: 2, total: 100 });
  const pending: Array<() => void> = [];
  broker.transport.on('telemetry', () => new Promise<void>((resolve) => pending.push(resolve)));
  for (let i = 1; i <= 3; i++) {
    await device.publishAsync(deviceTopic('pi-1', 'telemetry'), Buffer.from(String(i)), { qos: 1 });
    await until(`message ${i} handled`, () => pending.length === i);
  }
  // The third was read and is handled, but its device is held: the fourth stays unread.
  // Not awaited: its PUBACK comes only once the broker reads it.
  const fourth = device.publishAsync(deviceTopic('pi-1', 'telemetry'), Buffer.from('4'), { qos: 1 });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(pending.length, 3);
  assert.deepEqual(broker.transport.intake, { handling: 3, holding: 1 });
  pending[0]!();
  await until('message 4 handled', () => pending.length === 4);
  await fourth;
  pending.forEach((resolve) => resolve());
  await until('nothing in flight', () => broker.transport.intake.handling === 0);
});

test('a QoS 0 answer reaches a device subscribed at QoS 1 as QoS 0: nothing for it to acknowledge', async (t) => {
  const { broker, device } = await setup(t);
  const got: Array<{ payload: string; qos: number }> = [];
  device.on('message', (_topic, payload, packet) => got.push({ payload: payload.toString(), qos: packet.qos }));
  await device.subscribeAsync(deviceTopic('pi-1', 'ack'), { qos: 1 });
  await broker.transport.publish(deviceTopic('pi-1', 'ack'), Buffer.from('cheap'), false, 0);
  await broker.transport.publish(deviceTopic('pi-1', 'ack'), Buffer.from('acknowledged'));
  await until('both answers', () => got.length === 2);
  assert.deepEqual(got, [
    { payload: 'cheap', qos: 0 },
    { payload: 'acknowledged', qos: 1 },
  ]);
});
