/**
 * Acceptance (transfer): model artifacts delivered over MQTT in blocks of ≤ 64 KiB,
 * checked against the manifest's signed per-chunk hashes, with real agents and the real broker.
 * A link that drops mid-transfer (a TCP proxy cut) and an agent restarted mid-transfer both
 * resume from the last verified chunk; a corrupted chunk is refused and fetched again, and after
 * too many bad copies the update is rejected (chunk-mismatch) until the server's copy is good;
 * bytes sent per device are recorded (≈ the model size, HTTP and MQTT alike); a device is
 * refused artifacts that are not assigned to it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { buildReferenceModel } from '@edgeloop/models';
import { decodeChunk, deviceTopic, encodeMessage } from '@edgeloop/protocol';
import { sample, waitFor } from '../support/fixtures.js';
import { startTestFleet, type TestFleet } from '../support/in-process-fleet.js';

/** ~1 MiB: 17 signed chunks of 64 KiB. */
const BIG = buildReferenceModel({ seed: 41, hidden: 453 });

/** A TCP proxy in front of the broker whose connections the test can cut. */
async function cuttableProxy(
  target: string,
): Promise<{ url: string; connections: () => number; cut: () => void; close: () => Promise<void> }> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((client) => {
    connections++;
    const upstream = connect(Number(port), hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address() as { port: number };
  return {
    url: `mqtt://127.0.0.1:${address.port}`,
    connections: () => connections,
    cut: () => {
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

async function fleetSection(h: TestFleet, deviceId: string, mqttUrl = h.server.mqttUrl) {
  return {
    mqttUrl,
    httpUrl: h.server.httpUrl,
    trustedKeys: [h.server.publicKey],
    reconnectMinMs: 200,
    reconnectMaxMs: 500,
    ...(await h.enroll(deviceId)),
  };
}

const activeVersion = async (h: TestFleet, deviceId: string) =>
  (await h.server.devices.get(deviceId))?.models.find((m) => m.name === 'big')?.version;

test('model transfer over MQTT', { timeout: 240_000 }, async (t) => {
  const h = await startTestFleet();
  t.after(() => h.close());
  const big = await h.server.registry.register({ name: 'big', bytes: BIG, metadata: sample.metadata });
  assert.ok(
    big.manifest.artifact.chunks && big.manifest.artifact.chunks.length > 8,
    'the artifact has signed chunk hashes',
  );
  const size = BIG.length;
  const bytesSent = (d: string) => h.server.transfer.counters.bytesSent(d);

  await t.test('the download resumes from the last verified chunk after the link drops mid-transfer', async () => {
    const proxy = await cuttableProxy(h.server.mqttUrl);
    t.after(() => proxy.close());
    const device = 'mqtt-drop-1';
    await h.startAgent(device, {
      fleet: await fleetSection(h, device, proxy.url),
      updates: { transport: 'mqtt', maxBytesPerSecond: 256 * 1024 },
    });
    await waitFor('agent birth', () => h.server.devices.exists(device));
    await h.server.deployments.assign('big', big.version, [device]);
    const atCut = await waitFor('half the artifact sent', async () => {
      const n = await bytesSent(device);
      return n >= size / 2 ? n : undefined;
    });
    proxy.cut();
    await waitFor(
      'active after the link came back',
      async () => (await activeVersion(h, device)) === big.version,
      60_000,
    );
    assert.ok(proxy.connections() >= 2, 'the agent reconnected');
    const total = await bytesSent(device);
    assert.ok(
      total < atCut + size,
      `resumed, not restarted: ${total} bytes sent for a ${size}-byte artifact (${atCut} before the cut)`,
    );
  });

  await t.test('an agent restarted mid-transfer continues from its partial file', async () => {
    const device = 'mqtt-restart-1';
    const overrides = {
      fleet: await fleetSection(h, device),
      updates: { transport: 'mqtt' as const, maxBytesPerSecond: 256 * 1024 },
    };
    const first = await h.startAgent(device, overrides);
    await waitFor('agent birth', () => h.server.devices.exists(device));
    await h.server.deployments.assign('big', big.version, [device]);
    await waitFor('a third of the artifact sent', async () => (await bytesSent(device)) >= size / 3);
    await first.close();
    await h.startAgent(device, overrides);
    await waitFor('active after the restart', async () => (await activeVersion(h, device)) === big.version, 60_000);
    const resumed = (await h.server.devices.events(device)).find(
      (e) => e.state === 'downloading' && /resumed at/.test(String(e.reason)),
    );
    assert.ok(resumed, 'the download resumed at the verified offset');
    const afterRestart = await bytesSent(device);
    assert.ok(afterRestart < 1.6 * size, `resumed, not restarted: ${afterRestart} bytes for ${size}`);
  });

  await t.test('a corrupted chunk is refused and fetched again; persistent corruption rejects the update', async () => {
    const device = 'mqtt-corrupt-1';
    const file = join(h.dir, 'fleet', 'artifacts', big.sha256);
    const good = readFileSync(file);
    const bad = Buffer.from(good);
    bad[3 * 65536 + 7]! ^= 0xff; // inside chunk 3
    writeFileSync(file, bad);
    await h.startAgent(device, { fleet: await fleetSection(h, device), updates: { transport: 'mqtt' } });
    await waitFor('agent birth', () => h.server.devices.exists(device));
    await h.server.deployments.assign('big', big.version, [device]);
    const rejected = await waitFor(
      'the update rejected',
      async () =>
        (await h.server.devices.get(device))?.assignments.find((a) => a.model === 'big' && a.state === 'rejected'),
      60_000,
    );
    assert.equal(rejected.code, 'chunk-mismatch');
    const afterRejection = await bytesSent(device);
    writeFileSync(file, good);
    await h.server.deployments.publishDesired(device); // the same desired state again: the agent retries
    await waitFor(
      'active once the server copy is good',
      async () => (await activeVersion(h, device)) === big.version,
      60_000,
    );
    // The verified chunks before the bad one were kept: the retry fetched only the rest.
    assert.ok(
      (await bytesSent(device)) - afterRejection < size - 3 * 65536 + 1,
      'the retry resumed after the verified chunks',
    );
  });

  await t.test('bytes sent per device ≈ the model size, over MQTT and over HTTP', async () => {
    for (const transport of ['mqtt', 'http'] as const) {
      const device = `bytes-${transport}-1`;
      await h.startAgent(device, { fleet: await fleetSection(h, device), updates: { transport } });
      await waitFor('agent birth', () => h.server.devices.exists(device));
      await h.server.deployments.assign('big', big.version, [device]);
      await waitFor(`active over ${transport}`, async () => (await activeVersion(h, device)) === big.version, 60_000);
      await waitFor(
        'bytes flushed to the device view',
        async () => ((await h.server.devices.get(device))?.bytesSent ?? 0) >= size,
      );
      const sent = (await h.server.devices.get(device))!.bytesSent;
      assert.ok(sent >= size && sent <= 1.1 * size, `${transport}: ${sent} bytes sent for a ${size}-byte model`);
      const detail = await h.server.transfer.counters.detail(device);
      assert.deepEqual(
        detail.map((d) => [d.sha256, d.transport]),
        [[big.sha256, transport]],
      );
    }
  });

  await t.test('a device is refused artifacts not assigned to it', async () => {
    const device = 'mqtt-nosy-1';
    const creds = await h.enroll(device);
    const nosy = await mqtt.connectAsync(h.server.mqttUrl, { clientId: device, ...creds });
    t.after(() => nosy.endAsync());
    const answer = new Promise<Buffer>((resolve) => nosy.on('message', (_topic, payload) => resolve(payload)));
    await nosy.subscribeAsync(deviceTopic(device, 'chunk'), { qos: 1 });
    await nosy.publishAsync(
      deviceTopic(device, 'fetch'),
      encodeMessage({ v: 1, sha256: big.sha256, offset: 0, length: 65536 }),
      { qos: 1 },
    );
    const chunk = decodeChunk(await answer);
    assert.ok(chunk.ok && chunk.value.kind === 'refused', 'refused, not served');
    assert.match(chunk.value.kind === 'refused' ? chunk.value.reason : '', /not assigned/);
    assert.equal(await bytesSent(device), 0);
  });
});
