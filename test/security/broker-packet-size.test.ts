/**
 * Security: the embedded broker refuses a packet from its fixed header (MQTT 3.1.1 §2.2.3
 * Remaining Length), before buffering its body: at most 16 KiB before authentication (32 KiB for
 * all packets together), 4 MiB + 65 KiB after; and it closes connections that do not
 * authenticate within the connect timeout.
 * Real aedes over TCP, raw sockets crafting the packets, the process's RSS and /metrics as
 * witnesses; each attack has a positive control (honest clients still get through).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceTopic, encodeMessage, type TelemetryBatch } from '@edgeloop/protocol';
import { waitFor } from '../support/fixtures.js';
import { connectOnce, connectOrThrow } from '../support/mosquitto.js';
import {
  connectPacket,
  hugeConnectStart,
  metrics,
  publishHead,
  publishPacket,
  rawClient,
  rawLogin,
  refused,
  rssMb,
  startBrokerFleet,
  streamZeros,
  WARN,
} from './broker-support.js';

const MB = 1024 * 1024;
/** The largest Remaining Length there is (§2.2.3): 256 MB. */
const MAX_REMAINING_LENGTH = 268_435_455;

/** When the socket closed, or undefined if it is still open after `ms`. */
async function closedWithin(closed: Promise<number>, ms: number): Promise<number | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([closed, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

test(
  'two anonymous connections announcing 256 MB CONNECT packets are closed from the fixed header',
  { timeout: 120_000 },
  async (t) => {
    const h = await startBrokerFleet();
    t.after(() => h.close());
    const rssBefore = rssMb();
    const attackers = await Promise.all([rawClient(h.server.mqttUrl), rawClient(h.server.mqttUrl)]);
    t.after(() => attackers.forEach((a) => a.socket.destroy()));
    const start = Date.now();
    for (const a of attackers) a.socket.write(hugeConnectStart(MAX_REMAINING_LENGTH));
    // Keep sending body bytes as an attacker would, up to 64 MB each, until the broker hangs up.
    const written = await Promise.all(attackers.map((a) => streamZeros(a, 64 * MB)));
    // Well inside the 10 s connect timeout: the guard closed them, not the timer.
    const closedAt = await Promise.all(attackers.map((a) => closedWithin(a.closed, 8000)));
    const growth = rssMb() - rssBefore;
    t.diagnostic(
      `256 MB CONNECTs: closed ${closedAt.map((at) => (at ?? NaN) - start).join(' and ')} ms after the header; attackers wrote ${written.map((w) => (w / MB).toFixed(1)).join(' + ')} MB; RSS ${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB`,
    );

    for (const at of closedAt) {
      assert.ok(at !== undefined, 'the broker closed the connection (not left open for a connect timeout)');
      assert.ok(at - start < 5000, `closed ${at - start} ms after the header`);
    }
    assert.ok(
      growth < 64,
      `RSS grew ${growth.toFixed(0)} MB while the attackers wrote ${written.map((w) => (w / MB).toFixed(1)).join(' + ')} MB`,
    );
    const m = await metrics(h.server.httpUrl);
    assert.equal(refused(m, 'pre_auth_packet_too_large'), 2);
    assert.equal(m.get('edgeloop_broker_pending_connections'), 0);

    // A CONNECT just over the pre-authentication limit (16 KiB) is refused the same way …
    const big = await rawClient(h.server.mqttUrl);
    big.socket.write(connectPacket('x'.repeat(17 * 1024)));
    assert.ok(await closedWithin(big.closed, 5000));
    assert.equal(big.connack(), undefined, 'no CONNACK: the packet never reached aedes');
    assert.equal(refused(await metrics(h.server.httpUrl), 'pre_auth_packet_too_large'), 3);
    // … and a device with real credentials still gets in (positive control).
    const { username, password } = await h.enroll('honest-pi');
    const ok = await connectOnce(h.server.mqttUrl, { clientId: 'honest-pi', username, password });
    assert.ok(ok.ok, 'an honest device connects');
    if (ok.ok) ok.client.end(true);
    assert.ok(h.logs.filter((l) => l.level >= WARN).length <= 5, 'refusals are logged a few at a time');
  },
);

test(
  'an enrolled device publishing 50 MB of telemetry is cut off from the fixed header: no PUBACK, nothing stored',
  { timeout: 120_000 },
  async (t) => {
    const h = await startBrokerFleet();
    t.after(() => h.close());
    const { username, password } = await h.enroll('big-pi');
    const topic = deviceTopic('big-pi', 'telemetry');

    // Positive control: after authentication a 1 MB publish (64× the pre-authentication limit) is accepted.
    const control = await rawLogin(h.server.mqttUrl, 'big-pi', username, password);
    control.socket.write(publishPacket(topic, Buffer.alloc(MB)));
    await waitFor('PUBACK for the 1 MB publish', () => control.gotPuback() || undefined);
    control.socket.destroy();

    const rssBefore = rssMb();
    const device = await rawLogin(h.server.mqttUrl, 'big-pi', username, password);
    const start = Date.now();
    device.socket.write(publishHead(topic, 50 * MB));
    const written = await streamZeros(device, 50 * MB);
    const closedAt = await closedWithin(device.closed, 8000);
    const growth = rssMb() - rssBefore;
    t.diagnostic(
      `50 MB publish: closed ${closedAt === undefined ? 'never' : closedAt - start} ms after the header; device wrote ${(written / MB).toFixed(1)} MB; RSS ${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB`,
    );

    assert.ok(
      closedAt !== undefined && closedAt - start < 5000,
      `the broker closed the connection (${closedAt === undefined ? 'still open' : `${closedAt - start} ms`})`,
    );
    assert.equal(device.gotPuback(), false, 'no PUBACK for the oversized publish');
    assert.ok(growth < 64, `RSS grew ${growth.toFixed(0)} MB while the device wrote ${(written / MB).toFixed(1)} MB`);
    assert.equal(refused(await metrics(h.server.httpUrl), 'packet_too_large'), 1);

    // The device can come back and publish normally; only its own valid batch is stored.
    const client = await connectOrThrow(h.server.mqttUrl, { clientId: 'big-pi', username, password });
    t.after(() => client.end(true));
    const batch: TelemetryBatch = {
      v: 1,
      stream: 's1',
      backlog: 0,
      records: [
        {
          seq: 1,
          ts: Date.now(),
          model: 'distance',
          version: 1,
          output: [1],
          prediction: 1,
          latencyMs: 1,
          features: {},
        },
      ],
    };
    await client.publishAsync(topic, encodeMessage(batch), { qos: 1 });
    await waitFor(
      'the valid batch stored',
      async () => (await h.server.telemetry.query({ device: 'big-pi' })).length === 1 || undefined,
    );
  },
);

test(
  'a client that sends packets after its CONNECT without waiting to be authenticated is cut off (aedes would queue them)',
  { timeout: 60_000 },
  async (t) => {
    const h = await startBrokerFleet();
    t.after(() => h.close());
    const { username, password } = await h.enroll('eager-pi');
    const eager = await rawClient(h.server.mqttUrl);
    // 15 packets of 4 KiB, each under the 16 KiB pre-authentication packet limit, 60 KiB in all.
    const burst = Array.from({ length: 15 }, () =>
      publishPacket(deviceTopic('eager-pi', 'update'), Buffer.alloc(4096)),
    );
    eager.socket.write(Buffer.concat([connectPacket('eager-pi', username, password), ...burst]));
    assert.ok(await closedWithin(eager.closed, 5000), 'the broker closed the connection');
    assert.equal(eager.connack(), undefined, 'before CONNACK: nothing of it reached aedes');
    assert.equal(refused(await metrics(h.server.httpUrl), 'pre_auth_packet_too_large'), 1);
    // The same device waiting for its CONNACK first is fine (positive control).
    const polite = await rawLogin(h.server.mqttUrl, 'eager-pi', username, password);
    polite.socket.write(Buffer.concat(burst));
    await waitFor('PUBACKs for the burst', () => polite.gotPuback() || undefined);
    polite.socket.destroy();
  },
);

test(
  'connections that do not authenticate in time are closed and counted; so is a stream that is not MQTT',
  { timeout: 60_000 },
  async (t) => {
    const h = await startBrokerFleet({ connectTimeoutMs: 1000 });
    t.after(() => h.close());
    const silent = await rawClient(h.server.mqttUrl);
    // Slowloris: the first bytes of a CONNECT, then nothing.
    const slow = await rawClient(h.server.mqttUrl);
    slow.socket.write(connectPacket('slow', 'slow', 'secret').subarray(0, 10));
    const start = Date.now();
    for (const c of [silent, slow]) {
      const at = await closedWithin(c.closed, 5000);
      assert.ok(
        at !== undefined && at - start < 5000,
        `closed after the 1 s connect timeout (${at === undefined ? 'still open' : `${at - start} ms`})`,
      );
    }
    const http = await rawClient(h.server.mqttUrl);
    http.socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.ok(await closedWithin(http.closed, 5000), 'an HTTP request on the MQTT port is closed at once');
    const m = await metrics(h.server.httpUrl);
    assert.equal(refused(m, 'connect_timeout'), 2);
    assert.equal(refused(m, 'malformed'), 1);
    assert.equal(m.get('edgeloop_broker_pending_connections'), 0);
    assert.equal(m.get('edgeloop_broker_connections'), 0, 'none: the server takes device traffic in-process');
  },
);

test('/metrics needs an admin token', async (t) => {
  const h = await startBrokerFleet();
  t.after(() => h.close());
  const res = await fetch(`${h.server.httpUrl}/metrics`);
  assert.equal(res.status, 401);
  assert.match(((await res.json()) as { error: string }).error, /admin token/);
  const m = await metrics(h.server.httpUrl);
  assert.equal(refused(m, 'auth'), 0);
  assert.equal(m.get('edgeloop_broker_connections'), 0);
});
