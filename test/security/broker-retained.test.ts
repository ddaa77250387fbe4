/**
 * Security: a device may retain only its presence message (birth; its will, the death), at most
 * 16 KiB. The broker keeps retained messages in memory, so a device retaining anything else would
 * choose how much memory the broker holds for it. A refused retained publish is dropped and the
 * connection closed. The witness is a fresh subscriber with the server's own credentials, which
 * is sent every retained message under the device's topics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt, { type MqttClient } from 'mqtt';
import { deviceTopic, encodeMessage, type Birth } from '@edgeloop/protocol';
import { waitFor } from '../support/fixtures.js';
import { TEST_MQTT_SERVER } from '../support/fleet-client.js';
import { closed, connectOrThrow } from '../support/mosquitto.js';
import { metrics, refused, startBrokerFleet } from './broker-support.js';

function birth(deviceId: string, models: Birth['models'] = []): Birth {
  return {
    v: 1,
    type: 'birth',
    deviceId,
    session: 1,
    ts: Date.now(),
    agentVersion: 'test',
    arch: 'arm64',
    platform: 'linux',
    cpus: 4,
    memTotalMb: 4096,
    runtime: { name: 'onnxruntime', version: '1' },
    models,
    stream: 'stream-1',
    backlog: 0,
  };
}

/** Every retained message a fresh subscriber to the device's topics is sent, by topic. */
async function retainedUnder(url: string, deviceId: string, settleMs = 500): Promise<Map<string, number>> {
  const watcher = await mqtt.connectAsync(url, {
    clientId: `watch-${deviceId}-${Date.now()}`,
    ...TEST_MQTT_SERVER,
    reconnectPeriod: 0,
  });
  const got = new Map<string, number>();
  watcher.on('message', (topic, payload, packet) => {
    if (packet.retain) got.set(topic, payload.length);
  });
  await watcher.subscribeAsync(`edgeloop/v1/devices/${deviceId}/+`, { qos: 1 });
  // The birth is always retained: once it arrived, the broker is sending what it has.
  await waitFor('the retained birth', () => got.has(deviceTopic(deviceId, 'presence')) || undefined);
  await new Promise((r) => setTimeout(r, settleMs));
  await watcher.endAsync(true);
  return got;
}

/** Publishes retained and waits (up to 5 s) for the broker to close the connection. */
async function cutOffBy(client: MqttClient, topic: string, payload: Buffer): Promise<void> {
  const gone = closed(client);
  const sent = client.publishAsync(topic, payload, { qos: 1, retain: true }).catch(() => undefined);
  await Promise.race([gone, sent.then(() => new Promise((r) => setTimeout(r, 5000)))]);
}

test('a device cannot retain messages except its presence; nothing else is kept', { timeout: 60_000 }, async (t) => {
  const h = await startBrokerFleet();
  t.after(() => h.close());
  const { username, password } = await h.enroll('ret-pi');
  const connect = () => connectOrThrow(h.server.mqttUrl, { clientId: 'ret-pi', username, password });

  // Positive control: the retained birth is accepted (agents publish it on every connect).
  const first = await connect();
  await first.publishAsync(deviceTopic('ret-pi', 'presence'), encodeMessage(birth('ret-pi')), { qos: 1, retain: true });
  await waitFor('birth recorded', async () => (await h.server.devices.get('ret-pi'))?.online || undefined);

  // The attack, scaled down: retained messages on the device's own other channels.
  const channels = ['telemetry', 'update', 'reference', 'sample', 'fetch'] as const;
  let client = first;
  for (const channel of channels) {
    await cutOffBy(client, deviceTopic('ret-pi', channel), Buffer.alloc(256 * 1024, 0x7b));
    assert.equal(client.connected, false, `a retained publish on ${channel} closed the connection`);
    client.end(true);
    client = await connect();
  }
  // An oversized presence message (a birth is at most ~13 KB) is refused too.
  await cutOffBy(client, deviceTopic('ret-pi', 'presence'), Buffer.alloc(64 * 1024, 0x20));
  assert.equal(client.connected, false);
  client.end(true);

  const retained = await retainedUnder(h.server.mqttUrl, 'ret-pi');
  // The server retains the device's desired state on its birth; that one is the server's.
  retained.delete(deviceTopic('ret-pi', 'desired'));
  assert.deepEqual(
    [...retained.keys()],
    [deviceTopic('ret-pi', 'presence')],
    "of the device's channels, only presence holds a retained message",
  );
  assert.ok(retained.get(deviceTopic('ret-pi', 'presence'))! < 1024, 'and it is still the small birth');
  assert.equal(refused(await metrics(h.server.httpUrl), 'retained'), channels.length + 1);

  // The same messages without the retain flag are fine (the connection stays up).
  const honest = await connect();
  t.after(() => honest.end(true));
  await honest.publishAsync(deviceTopic('ret-pi', 'update'), Buffer.from('{}'), { qos: 1 });
  assert.ok(honest.connected);
});

test('a birth with the most models the schema allows fits under the retained presence limit', () => {
  const models = Array.from({ length: 64 }, (_, i) => ({
    name: `m${String(i).padStart(63, '0')}`,
    version: Number.MAX_SAFE_INTEGER,
    sha256: 'f'.repeat(64),
  }));
  const largest = encodeMessage({
    ...birth('d'.repeat(64), models),
    stream: 's'.repeat(64),
    agentVersion: 'v'.repeat(64),
    hardware: 'h'.repeat(64),
    dropped: Number.MAX_SAFE_INTEGER,
    backlog: Number.MAX_SAFE_INTEGER,
  });
  assert.ok(largest.length < 16 * 1024, `${largest.length} bytes`);
});
