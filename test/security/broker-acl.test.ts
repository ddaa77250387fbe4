/**
 * Security: the embedded broker authenticates every client and isolates devices.
 * Real aedes on a free port, real MQTT clients with real enrolled credentials, the fleet's own
 * store as the witness. Each check has a positive control (the same message on the device's own
 * topic works), so it fails if the protection is removed rather than because the input was bad.
 * Each once on each store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import { deviceTopic, encodeMessage, type TelemetryBatch, type UpdateReport } from '@edgeloop/protocol';
import { waitFor } from '../support/fixtures.js';
import { adminJson } from '../support/processes.js';
import { startTestFleet, type TestFleet } from '../support/in-process-fleet.js';
import { STORES, storeSkip } from '../support/stores.js';
import { closed, collect, connectOnce, connectOrThrow } from '../support/mosquitto.js';

function batch(stream: string, seq: number): Buffer {
  const b: TelemetryBatch = {
    v: 1,
    stream,
    backlog: 0,
    records: [
      {
        seq,
        ts: Date.now(),
        model: 'distance',
        version: 1,
        output: [123],
        prediction: 123,
        latencyMs: 1,
        features: {},
      },
    ],
  };
  return encodeMessage(b);
}

function report(reportSeq: number, state: UpdateReport['state'] = 'downloading'): Buffer {
  // These raw clients send no birth: session 0 is what an enrolled device starts with.
  const r: UpdateReport = { v: 1, model: 'distance', version: 1, state, ts: Date.now(), session: 0, reportSeq };
  return encodeMessage(r);
}

/** The SUBACK return codes (0x80 = refused); mqtt.js rejects a SUBACK with any 0x80 and keeps the packet on the error. */
async function subscribeCodes(client: MqttClient, filters: string[]): Promise<number[]> {
  try {
    return (await client.subscribeAsync(filters, { qos: 1 })).map((g) => g.qos);
  } catch (err) {
    const granted = (err as { packet?: { granted?: number[] } }).packet?.granted;
    if (!granted) throw err;
    return granted;
  }
}

async function device(
  h: TestFleet,
  id: string,
  extra: { clientId?: string; password?: string } = {},
): Promise<MqttClient> {
  const { username, password } = await h.enroll(id);
  return connectOrThrow(h.server.mqttUrl, {
    clientId: extra.clientId ?? id,
    username,
    password: extra.password ?? password,
  });
}

for (const store of STORES) {
  const skip = await storeSkip(store);
  test(`devices publish and subscribe only their own topics (${store})`, { timeout: 60_000, skip }, async (t) => {
    const h = await startTestFleet({ store });
    t.after(() => h.close());
    const a = await device(h, 'acl-a');
    const b = await device(h, 'acl-b');
    t.after(() => {
      a.end(true);
      b.end(true);
    });

    await t.test("a device writing into another device's telemetry is cut off and nothing is stored", async () => {
      // Positive control: the same kind of batch on A's own topic is stored.
      await a.publishAsync(deviceTopic('acl-a', 'telemetry'), batch('stream-a', 1), { qos: 1 });
      await waitFor(
        "A's own batch stored",
        async () => (await h.server.telemetry.query({ device: 'acl-a' })).length === 1 || undefined,
      );

      const refusedBefore = h.server.broker!.refusals.publish;
      void a
        .publishAsync(deviceTopic('acl-b', 'telemetry'), batch('stream-forged', 1), { qos: 1 })
        .catch(() => undefined);
      // Whichever comes first: the broker cutting A off, or (protection gone) the forged batch stored.
      await waitFor(
        'A cut off, or the forged batch stored',
        async () => !a.connected || (await h.server.telemetry.query({ device: 'acl-b' })).length > 0 || undefined,
      );
      assert.equal(
        a.connected,
        false,
        'the broker closed the connection of the device that published outside its topics',
      );
      assert.equal(h.server.broker!.refusals.publish, refusedBefore + 1);
      // The store is the witness: B has no records, not even after the server handled later traffic.
      await b.publishAsync(deviceTopic('acl-b', 'telemetry'), batch('stream-b', 7), { qos: 1 });
      await waitFor(
        "B's own batch stored",
        async () => (await h.server.telemetry.query({ device: 'acl-b' })).length === 1 || undefined,
      );
      assert.deepEqual(
        (await h.server.telemetry.query({ device: 'acl-b' })).map((r) => r.stream),
        ['stream-b'],
        'the forged batch never reached the store',
      );
    });

    await t.test("a device cannot read another device's assignments (SUBACK 0x80, no message)", async () => {
      const spy = await device(h, 'acl-c');
      t.after(() => spy.end(true));
      const got = collect(spy);
      const granted = await subscribeCodes(spy, [
        deviceTopic('acl-b', 'desired'),
        'edgeloop/v1/devices/+/desired',
        'edgeloop/#',
        '#',
        '+/v1/devices/acl-b/desired',
      ]);
      assert.deepEqual(granted, [128, 128, 128, 128, 128], 'every foreign or wildcard filter is refused');
      assert.deepEqual(
        await subscribeCodes(spy, [deviceTopic('acl-c', 'desired')]),
        [1],
        'its own desired state is granted; the connection stayed up',
      );
      assert.deepEqual(
        await subscribeCodes(spy, [deviceTopic('acl-c', 'telemetry')]),
        [128],
        'not even its own outbound channels',
      );

      // B's retained desired state exists, and B itself receives it (positive control).
      const bGot = collect(b);
      await b.subscribeAsync(deviceTopic('acl-b', 'desired'), { qos: 1 });
      await h.server.deployments.assign('distance', 1, ['acl-b']);
      await waitFor(
        'B receives its desired state',
        () => bGot.some((m) => m.topic === deviceTopic('acl-b', 'desired')) || undefined,
      );
      // A message for C after B's: once it arrives, anything for B would have arrived before it.
      await h.server.deployments.assign('distance', 1, ['acl-c']);
      await waitFor(
        'C receives its own desired state',
        () => got.some((m) => m.topic === deviceTopic('acl-c', 'desired')) || undefined,
      );
      assert.deepEqual(
        got.filter((m) => !m.topic.startsWith('edgeloop/v1/devices/acl-c/')),
        [],
        "nothing of B's reached C",
      );
      assert.ok(spy.connected);
    });
  });

  test(
    `unknown devices, wrong passwords and borrowed client ids are refused at CONNECT (${store})`,
    { timeout: 60_000, skip },
    async (t) => {
      const h = await startTestFleet({ store });
      t.after(() => h.close());
      const { password } = await h.enroll('auth-a');
      await h.enroll('auth-b');
      const url = h.server.mqttUrl;

      const anonymous = await connectOnce(url, { clientId: 'auth-a' });
      assert.equal(anonymous.ok, false);
      const wrong = await connectOnce(url, { clientId: 'auth-a', username: 'auth-a', password: `${password}x` });
      assert.ok(!wrong.ok && /bad username or password/i.test(wrong.reason), JSON.stringify(wrong));
      const unknown = await connectOnce(url, { clientId: 'ghost', username: 'ghost', password });
      assert.ok(!unknown.ok && /bad username or password/i.test(unknown.reason), JSON.stringify(unknown));
      // A's valid credentials cannot claim B's session (that would kick B and receive its messages).
      const borrowed = await connectOnce(url, { clientId: 'auth-b', username: 'auth-a', password });
      assert.ok(!borrowed.ok && /identifier rejected/i.test(borrowed.reason), JSON.stringify(borrowed));
      const server = await connectOnce(url, { clientId: 'fake-server', username: 'edgeloop-server', password });
      assert.equal(server.ok, false, "a device password does not open the server's user");

      const ok = await connectOnce(url, { clientId: 'auth-a', username: 'auth-a', password });
      assert.equal(ok.ok, true, 'the right credentials still work (positive control)');
      if (ok.ok) ok.client.end(true);
      assert.ok(h.server.broker!.refusals.connect >= 5);
    },
  );

  test(
    `a disabled or revoked device is disconnected at once and cannot come back; enable restores it (${store})`,
    { timeout: 60_000, skip },
    async (t) => {
      const h = await startTestFleet({ store });
      t.after(() => h.close());
      const { username, password } = await h.enroll('kick-me');
      const connect = () => connectOnce(h.server.mqttUrl, { clientId: 'kick-me', username, password });

      const first = await connect();
      assert.ok(first.ok);
      const kicked = closed(first.client);
      await adminJson(h.server, 'POST', '/api/v1/devices/kick-me/disable');
      await kicked;
      const whileDisabled = await connect();
      assert.ok(!whileDisabled.ok && /not authorized/i.test(whileDisabled.reason), JSON.stringify(whileDisabled));
      const reenroll = await fetch(`${h.server.httpUrl}/api/v1/enroll`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          token: (await h.server.identity.enrollmentTokens.create({}, 'test')).token,
          deviceId: 'kick-me',
        }),
      });
      assert.equal(reenroll.status, 403, 'a disabled device cannot enroll itself back');
      assert.match(((await reenroll.json()) as { error: string }).error, /disabled.*edgeloop devices enable kick-me/);

      await adminJson(h.server, 'POST', '/api/v1/devices/kick-me/enable');
      const again = await connect();
      assert.ok(again.ok, 'enabled again: the same credentials work');

      const revokedCut = closed(again.client);
      await adminJson(h.server, 'POST', '/api/v1/devices/kick-me/revoke');
      await revokedCut;
      const afterRevoke = await connect();
      assert.ok(!afterRevoke.ok && /bad username or password/i.test(afterRevoke.reason), JSON.stringify(afterRevoke));
    },
  );

  test(
    `a replayed update report (same reportSeq over real MQTT) is ignored (${store})`,
    { timeout: 60_000, skip },
    async (t) => {
      const h = await startTestFleet({ store });
      t.after(() => h.close());
      const dev = await device(h, 'replay-pi');
      t.after(() => dev.end(true));
      const topic = deviceTopic('replay-pi', 'update');

      await dev.publishAsync(topic, report(5, 'downloading'), { qos: 1 });
      await waitFor(
        'first report stored',
        async () => (await h.server.devices.events('replay-pi')).length === 1 || undefined,
      );
      // The replay, then a fresh report: messages of one client arrive in order, so once seq 6 is
      // stored the replay has been handled too.
      await dev.publishAsync(topic, report(5, 'active'), { qos: 1 });
      await dev.publishAsync(topic, report(6, 'verified'), { qos: 1 });
      await waitFor(
        'seq 6 stored',
        async () => (await h.server.devices.events('replay-pi')).some((e) => e.reportSeq === 6) || undefined,
      );
      const events = await h.server.devices.events('replay-pi');
      assert.deepEqual(
        events.map((e) => [e.reportSeq, e.state]),
        [
          [6, 'verified'],
          [5, 'downloading'],
        ],
        'the replayed seq 5 ("active") was dropped',
      );
    },
  );
}
