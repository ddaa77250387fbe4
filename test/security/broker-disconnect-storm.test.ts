/**
 * Robustness: a fleet dropping off the embedded broker at once. Each device leaving makes aedes
 * route two messages nobody subscribes to in-process (its will, handed to the ingest directly,
 * and a $SYS disconnect notice), while the server's acks to those devices are still being
 * delivered. aedes' router (mqemitter) used to queue messages beyond 100 in flight and drain the
 * queue recursively: a few thousand such messages behind the in-flight deliveries overflowed the
 * stack and the RangeError killed the process. Real aedes over TCP, raw sockets, enrolled devices.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceTopic, encodeMessage } from '@edgeloop/protocol';
import { waitFor } from '../support/fixtures.js';
import {
  connectPacket,
  publishPacket,
  rawClient,
  rawLogin,
  startBrokerFleet,
  subscribePacket,
  type BrokerFleet,
  type RawClient,
} from './broker-support.js';

const ACK = Buffer.from(JSON.stringify({ v: 1, stream: 's', seqFrom: 1, seqTo: 1, status: 'stored' }));

/** A logged-in device subscribed to its acks; waits for the SUBACK. */
async function subscriber(h: BrokerFleet, deviceId: string): Promise<RawClient> {
  const { username, password } = await h.enroll(deviceId);
  const c = await rawLogin(h.server.mqttUrl, deviceId, username, password);
  c.socket.write(subscribePacket(deviceTopic(deviceId, 'ack')));
  await waitFor('the SUBACK', () => c.count(9) > 0 || undefined);
  return c;
}

test(
  'thousands of messages routed behind in-flight deliveries leave the broker running',
  { timeout: 120_000 },
  async (t) => {
    const h = await startBrokerFleet();
    t.after(() => h.close());
    const device = await subscriber(h, 'storm-sub');
    t.after(() => device.socket.destroy());

    // The shape of the storm, without its timing: more deliveries in flight than the old limit
    // (100), and behind them, in the same tick, thousands of messages without subscribers.
    const sent: Array<Promise<void>> = [];
    for (let i = 0; i < 200; i++) sent.push(h.server.publish(deviceTopic('storm-sub', 'ack'), ACK));
    for (let i = 0; i < 10_000; i++) sent.push(h.server.publish(deviceTopic(`gone-${i}`, 'ack'), ACK));
    await Promise.all(sent);

    await waitFor('every ack delivered', () => device.count(3) >= 200 || undefined, 30_000);
    const again = await subscriber(h, 'storm-after');
    again.socket.destroy();
  },
);

test(
  '2,000 devices disconnecting at once while acks go out: the broker survives and records every death',
  { timeout: 300_000 },
  async (t) => {
    const h = await startBrokerFleet();
    t.after(() => h.close());
    const N = 2000;
    const clients: RawClient[] = [];
    t.after(() => clients.forEach((c) => c.socket.destroy()));
    // Credentials straight from the identity service (enrollment tokens would add a transaction each).
    const passwords: string[] = [];
    for (let i = 0; i < N; i += 100)
      passwords.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(100, N - i) }, (_, k) => h.server.identity.issueCredential(`storm-${i + k}`)),
        )),
      );
    // In waves the connection gate admits (at most 1,000 waiting to log in), each logged in
    // before the next: the storm under test is the disconnect, not the connect.
    for (let wave = 0; wave < N; wave += 250) {
      const ids = Array.from({ length: Math.min(250, N - wave) }, (_, k) => wave + k);
      const batch = await Promise.all(ids.map(() => rawClient(h.server.mqttUrl)));
      batch.forEach((c, k) => {
        const i = ids[k]!;
        const id = `storm-${i}`;
        const death = encodeMessage({ v: 1, type: 'death', deviceId: id, session: 1 });
        c.socket.write(
          Buffer.concat([
            connectPacket(id, id, passwords[i], { topic: deviceTopic(id, 'presence'), payload: death, retain: true }),
            subscribePacket(deviceTopic(id, 'ack')),
            publishPacket(deviceTopic(id, 'presence'), encodeMessage(birth(id)), { retain: true }),
          ]),
        );
      });
      clients.push(...batch);
      await waitFor('the wave logged in', () => batch.every((c) => c.connack() === 0) || undefined, 60_000);
    }
    await waitFor(
      'every device online',
      async () => (await h.server.devices.list()).filter((d) => d.online).length === N || undefined,
      120_000,
      500,
    );
    assert.equal(h.server.broker!.metrics().connections, N);

    // Acks to every device, and in the same tick every device gone without a DISCONNECT.
    const acks = clients.map((_, i) => h.server.publish(deviceTopic(`storm-${i}`, 'ack'), ACK));
    for (const c of clients) c.socket.destroy();
    await Promise.all(acks);

    await waitFor('every session closed', () => h.server.broker!.metrics().connections === 0 || undefined, 60_000);
    await waitFor(
      'every death recorded',
      async () => (await h.server.devices.list()).every((d) => !d.online) || undefined,
      60_000,
      500,
    );
    const after = await subscriber(h, 'storm-after');
    after.socket.destroy();
  },
);

function birth(deviceId: string) {
  return {
    v: 1 as const,
    type: 'birth' as const,
    deviceId,
    session: 1,
    ts: Date.now(),
    agentVersion: 'test',
    arch: 'arm64',
    platform: 'linux',
    cpus: 4,
    memTotalMb: 4096,
    runtime: { name: 'onnxruntime', version: '1' },
    models: [],
    stream: 'stream-1',
    backlog: 0,
  };
}
