/**
 * Acceptance (issue #3, sensor bindings): reference values from existing sensors, published to
 * a real Mosquitto by mosquitto_pub, are joined to predictions — by nearest timestamp, by
 * correlation id, from JSON fields or plain numbers with scale/offset — and reach the fleet
 * server with their records; a value arriving after its record was synced updates it there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { greyTensor, postJson, tempDir, waitFor } from '../support/fixtures.js';
import { mosquittoPub, startMosquitto, which } from '../support/mosquitto.js';
import { startTestFleet } from '../support/in-process-fleet.js';

const DEVICE = 'sensor-pi-1';

test('sensor reference values are joined to predictions and reach the fleet', { timeout: 120_000 }, async (t) => {
  for (const program of ['mosquitto', 'mosquitto_pub']) {
    if (!(await which(program))) {
      const msg = `*** ${program} NOT INSTALLED: skipping the sensor-binding test (apt-get install mosquitto mosquitto-clients) ***`;
      console.warn(msg);
      t.skip(msg);
      return;
    }
  }
  const tmp = tempDir('sensors');
  const broker = await startMosquitto(tmp.dir);
  const h = await startTestFleet();
  t.after(async () => {
    await h.close();
    await broker.stop();
    tmp.cleanup();
  });
  const agent = await h.startAgent(DEVICE, {
    sync: { flushIntervalMs: 20 },
    sensors: {
      brokers: { site: { url: broker.url } },
      bindings: [
        // A time-of-flight sensor publishing JSON with its own timestamp.
        { name: 'tof', broker: 'site', topic: 'site/tof/+', payload: { format: 'json', valuePath: 'data.distance_mm', timestampPath: 'ts' }, model: 'distance', join: { by: 'timestamp', windowMs: 400 }, holdMs: 3000 },
        // Labels that name the prediction they belong to, in metres.
        { name: 'labels', broker: 'site', topic: 'site/labels', payload: { format: 'json', valuePath: 'metres', correlationPath: 'request' }, scale: 1000, model: 'distance', join: { by: 'correlation' }, holdMs: 0 },
        // A bare numeric payload with an offset, timed by arrival.
        { name: 'plain', broker: 'site', topic: 'site/plain', payload: { format: 'number' }, offset: 10, model: 'distance', join: { by: 'timestamp', windowMs: 2000 }, holdMs: 3000 },
      ],
    },
  });
  await h.deploySample(DEVICE);
  await waitFor('sensor broker subscription', () => broker.child.exitCode === null || undefined);
  await new Promise((r) => setTimeout(r, 300)); // let the agent's sensor client subscribe
  const stored = async (requestId: string) => h.server.telemetry.query({ device: DEVICE, limit: 1000 }).find((r) => r.requestId === requestId);

  // 1. Timestamp join: the sensor reading is 100 ms after the prediction.
  const p1 = await postJson(`${agent.apiUrl}/v1/predict`, greyTensor(0.5, 'ts-join'));
  assert.equal(p1.status, 200);
  const predictedAt = Date.now();
  await mosquittoPub(broker.port, 'site/tof/rear', JSON.stringify({ data: { distance_mm: 152.5 }, ts: predictedAt + 100 }));
  const r1 = await waitFor('record with its timestamp-joined reference', async () => {
    const r = await stored('ts-join');
    return r?.reference !== null && r?.reference !== undefined ? r : undefined;
  });
  assert.equal(r1.reference, 152.5);

  // 2. Reference first, prediction second: the waiting value is attached as the record is stored.
  await mosquittoPub(broker.port, 'site/plain', '200');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await postJson(`${agent.apiUrl}/v1/predict`, greyTensor(0.5, 'value-first'))).status, 200);
  const r2 = await waitFor('record joined to a value that arrived first', async () => {
    const r = await stored('value-first');
    return r?.reference !== null && r?.reference !== undefined ? r : undefined;
  });
  assert.equal(r2.reference, 210, 'plain number + offset');

  // 3. Late value: the record is synced without a reference; the label arrives afterwards and
  //    updates the stored record on the server.
  assert.equal((await postJson(`${agent.apiUrl}/v1/predict`, greyTensor(0.5, 'late-label'))).status, 200);
  // Outside the timestamp windows of the other bindings? Their holds apply to the model, so wait for sync.
  const synced = await waitFor('record synced without reference', async () => stored('late-label'), 20_000);
  assert.equal(synced.reference, null);
  await mosquittoPub(broker.port, 'site/labels', JSON.stringify({ request: 'late-label', metres: 0.1875 }));
  const r3 = await waitFor('late reference applied at the server', async () => {
    const r = await stored('late-label');
    return r?.reference !== null ? r : undefined;
  });
  assert.equal(r3!.reference, 187.5);

  // 4. Very late value: the record left the agent's buffer entirely (acked and deleted), so the
  //    value goes through the reference outbox as an update of the stored record.
  assert.equal((await postJson(`${agent.apiUrl}/v1/predict`, greyTensor(0.5, 'very-late'))).status, 200);
  await waitFor('record synced and acked', async () => {
    const health = (await (await fetch(`${agent.apiUrl}/v1/health`)).json()) as { backlog: number };
    return health.backlog === 0 && (await stored('very-late')) ? true : undefined;
  }, 20_000);
  await mosquittoPub(broker.port, 'site/labels', JSON.stringify({ request: 'very-late', metres: 0.25 }));
  const r4 = await waitFor('very late reference applied at the server', async () => {
    const r = await stored('very-late');
    return r?.reference !== null ? r : undefined;
  });
  assert.equal(r4!.reference, 250);

  // 5. Bad sensor payloads are rejected and logged; the agent keeps working.
  await mosquittoPub(broker.port, 'site/tof/rear', 'not json');
  await mosquittoPub(broker.port, 'site/tof/rear', JSON.stringify({ data: {}, ts: Date.now() }));
  await mosquittoPub(broker.port, 'site/plain', 'NaN-ish');
  assert.equal((await postJson(`${agent.apiUrl}/v1/predict`, greyTensor(0.5, 'after-garbage'))).status, 200);
  await waitFor('record after garbage synced', async () => stored('after-garbage'), 20_000);
  t.diagnostic(`device dir ${join(h.dir, DEVICE)}`);
});
