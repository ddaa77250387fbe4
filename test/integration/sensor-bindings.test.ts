/**
 * Acceptance (sensor bindings): reference values from existing sensors, published to
 * a real Mosquitto by mosquitto_pub, are joined to predictions — by nearest timestamp, by
 * correlation id, from JSON fields or plain numbers with scale/offset — and reach the fleet
 * server with their records; a value arriving after its record was synced updates it there.
 * Each model has one reference binding (a record carries one reference value), so the sample
 * model is served under three names. What became of the values is in /metrics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { SAMPLE_METADATA_PATH, SAMPLE_MODELS } from '@edgeloop/models';
import { greyTensor, postJson, tempDir, waitFor } from '../support/fixtures.js';
import { mosquittoPub, startMosquitto, which } from '../support/mosquitto.js';
import { startTestFleet, until } from '../support/in-process-fleet.js';

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
  for (const name of ['labelled', 'plain']) {
    await h.server.registry.register({
      name,
      bytes: readFileSync(SAMPLE_MODELS.v1),
      metadata: JSON.parse(readFileSync(SAMPLE_METADATA_PATH, 'utf8')),
    });
  }
  const agent = await h.startAgent(DEVICE, {
    sync: { flushIntervalMs: 20 },
    sensors: {
      brokers: { site: { url: broker.url } },
      bindings: [
        // A time-of-flight sensor publishing JSON with its own timestamp.
        {
          name: 'tof',
          broker: 'site',
          topic: 'site/tof/+',
          payload: { format: 'json', valuePath: 'data.distance_mm', timestampPath: 'ts' },
          model: 'distance',
          join: { by: 'timestamp', windowMs: 1000 },
          holdMs: 3000,
        },
        // Labels that name the prediction they belong to, in metres.
        {
          name: 'labels',
          broker: 'site',
          topic: 'site/labels',
          payload: { format: 'json', valuePath: 'metres', correlationPath: 'request' },
          scale: 1000,
          model: 'labelled',
          join: { by: 'correlation' },
          holdMs: 0,
        },
        // A bare numeric payload with an offset, timed by arrival.
        {
          name: 'plain',
          broker: 'site',
          topic: 'site/plain',
          payload: { format: 'number' },
          offset: 10,
          model: 'plain',
          join: { by: 'timestamp', windowMs: 2000 },
          holdMs: 3000,
        },
      ],
    },
  });
  await h.deploySample(DEVICE);
  await h.server.deployments.assign('labelled', 1, [DEVICE]);
  await h.server.deployments.assign('plain', 1, [DEVICE]);
  await until('three models active', async () => ((await h.server.devices.get(DEVICE))?.models.length ?? 0) === 3);
  const predict = (model: string, requestId: string) =>
    postJson(`${agent.apiUrl}/v1/models/${model}/predict`, greyTensor(0.5, requestId));
  const metric = async (outcome: string) =>
    Number(
      new RegExp(`edgeloop_sensor_reference_values_total\\{outcome="${outcome}"\\} (\\d+)`).exec(
        await (await fetch(`${agent.apiUrl}/metrics`)).text(),
      )?.[1] ?? NaN,
    );
  await waitFor('sensor broker subscription', () => broker.child.exitCode === null || undefined);
  await new Promise((r) => setTimeout(r, 300)); // let the agent's sensor client subscribe
  const stored = async (requestId: string) =>
    (await h.server.telemetry.query({ device: DEVICE, limit: 1000 })).find((r) => r.requestId === requestId);

  // 1. Timestamp join: the sensor reading is 100 ms after the prediction.
  const p1 = await predict('distance', 'ts-join');
  assert.equal(p1.status, 200);
  const predictedAt = Date.now();
  await mosquittoPub(
    broker.port,
    'site/tof/rear',
    JSON.stringify({ data: { distance_mm: 152.5 }, ts: predictedAt + 100 }),
  );
  const r1 = await waitFor('record with its timestamp-joined reference', async () => {
    const r = await stored('ts-join');
    return r?.reference !== null && r?.reference !== undefined ? r : undefined;
  });
  assert.equal(r1.reference, 152.5);

  // 1b. Nearest, not first: a reading 700 ms before the prediction joins it, then one 30 ms
  //     after replaces it while the record is still held (the margins allow a slow request).
  //     First step 1's reading must be out of the 1 s join window: stamped after this new
  //     prediction, it would settle it at once.
  await new Promise((r) => setTimeout(r, Math.max(0, predictedAt + 1300 - Date.now())));
  const requestedAt = Date.now();
  assert.equal((await predict('distance', 'nearest')).status, 200);
  const answeredAt = Date.now();
  await mosquittoPub(
    broker.port,
    'site/tof/rear',
    JSON.stringify({ data: { distance_mm: 700 }, ts: requestedAt - 700 }),
  );
  await mosquittoPub(broker.port, 'site/tof/front', JSON.stringify({ data: { distance_mm: 30 }, ts: answeredAt + 30 }));
  const r1b = await waitFor('record joined to its nearest reading', async () => {
    const r = await stored('nearest');
    return r?.reference !== null && r?.reference !== undefined ? r : undefined;
  });
  assert.equal(r1b.reference, 30, 'the nearer, later reading replaced the earlier one');

  // 2. Reference first, prediction second: the waiting value is attached as the record is stored.
  await mosquittoPub(broker.port, 'site/plain', '200');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await predict('plain', 'value-first')).status, 200);
  const r2 = await waitFor('record joined to a value that arrived first', async () => {
    const r = await stored('value-first');
    return r?.reference !== null && r?.reference !== undefined ? r : undefined;
  });
  assert.equal(r2.reference, 210, 'plain number + offset');

  // 3. Late value: the record is synced without a reference; the label arrives afterwards and
  //    updates the stored record on the server.
  assert.equal((await predict('labelled', 'late-label')).status, 200);
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
  assert.equal((await predict('labelled', 'very-late')).status, 200);
  await waitFor(
    'record synced and acked',
    async () => {
      const health = (await (await fetch(`${agent.apiUrl}/v1/health`)).json()) as { backlog: number };
      return health.backlog === 0 && (await stored('very-late')) ? true : undefined;
    },
    20_000,
  );
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
  assert.equal((await predict('distance', 'after-garbage')).status, 200);
  await waitFor('record after garbage synced', async () => stored('after-garbage'), 20_000);

  // 6. What became of the values is in /metrics: a sensor clock 2 s ahead is not joined but
  //    counted as skewed; a label without a request id can never join.
  const joinedBefore = await metric('joined');
  assert.ok(joinedBefore >= 5, `joined ${joinedBefore}`);
  for (let i = 0; i < 3; i++) {
    assert.equal((await predict('distance', `skewed-${i}`)).status, 200);
    await mosquittoPub(
      broker.port,
      'site/tof/rear',
      JSON.stringify({ data: { distance_mm: 1 }, ts: Date.now() + 2000 }),
    );
  }
  await mosquittoPub(broker.port, 'site/labels', JSON.stringify({ metres: 1 }));
  await waitFor(
    'skewed and unmatched values counted',
    async () => ((await metric('skewed')) === 3 && (await metric('unmatched')) === 1) || undefined,
  );
  assert.equal(await metric('joined'), joinedBefore, 'skewed readings joined nothing');
  const skewed = await waitFor('skewed-2 synced', async () => stored('skewed-2'), 20_000);
  assert.equal(skewed.reference, null);
  t.diagnostic(`device dir ${join(h.dir, DEVICE)}`);
});
