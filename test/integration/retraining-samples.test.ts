/**
 * Acceptance (input sampling): the agent keeps raw inputs by policy — every Nth, and
 * those whose prediction was far from the sensor's reference value — under a byte budget, and
 * uploads them only when the fleet asks; the fleet stores the exact bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import mqtt from 'mqtt';
import { jpeg, postJson, waitFor } from '../support/fixtures.js';
import { startTestFleet } from '../support/in-process-fleet.js';
import { TEST_ADMIN_TOKEN, TEST_MQTT_SERVER } from '../support/fleet-client.js';

const AUTH = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

const DEVICE = 'sampling-pi-1';
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('inputs are kept by policy and uploaded on request, byte for byte', { timeout: 120_000 }, async (t) => {
  const h = await startTestFleet();
  t.after(() => h.close());
  const agent = await h.startAgent(DEVICE, {
    sync: { flushIntervalMs: 20 },
    sampling: { everyN: 3, largeErrorAbove: 50, upload: 'on-request' },
    sensors: {
      bindings: [
        {
          name: 'labels',
          broker: 'fleet',
          topic: 'site/labels',
          payload: { format: 'json', valuePath: 'mm', correlationPath: 'request' },
          model: 'distance',
          join: { by: 'correlation' },
          holdMs: 0,
        },
      ],
    },
  });
  await h.deploySample(DEVICE);
  // Devices may only read integrator topics on the fleet broker; the labeller publishes as the server's user.
  const sensor = await mqtt.connectAsync(h.server.mqttUrl, { clientId: 'labeller', ...TEST_MQTT_SERVER });
  t.after(() => sensor.endAsync());

  const images = await Promise.all([20, 60, 100, 140, 180, 220, 90, 200].map((v) => jpeg(v, v, v)));
  const predict = async (i: number, requestId: string) => {
    const res = await fetch(`${agent.apiUrl}/v1/predict`, {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg', 'x-request-id': requestId },
      body: new Uint8Array(images[i]!),
    });
    assert.equal(res.status, 200);
    return (await res.json()) as { prediction: number };
  };
  for (let i = 0; i < 6; i++) await predict(i, `img-${i}`);
  const far = await predict(6, 'far');
  const near = await predict(7, 'near');
  await sensor.publishAsync('site/labels', JSON.stringify({ request: 'far', mm: far.prediction + 120 }), { qos: 1 });
  await sensor.publishAsync('site/labels', JSON.stringify({ request: 'near', mm: near.prediction + 5 }), { qos: 1 });

  // Nothing leaves the device until the fleet asks (on-request).
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(
    (
      (await fetch(`${h.server.httpUrl}/api/v1/samples`, { headers: AUTH }).then((r) => r.json())) as {
        samples: unknown[];
      }
    ).samples.length,
    0,
  );

  const req = await fetch(`${h.server.httpUrl}/api/v1/devices/${DEVICE}/samples/request`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...AUTH },
    body: '{"minutes": 5}',
  });
  assert.equal(req.status, 200);
  type Row = {
    id: number;
    seq: number;
    reason: string;
    prediction: number;
    reference: number | null;
    sha256: string;
    contentType: string;
  };
  const samples = await waitFor('three samples at the fleet', async () => {
    const body = (await fetch(`${h.server.httpUrl}/api/v1/samples?device=${DEVICE}`, { headers: AUTH }).then((r) =>
      r.json(),
    )) as { samples: Row[] };
    return body.samples.length >= 3 ? body.samples : undefined;
  });
  await new Promise((r) => setTimeout(r, 500));
  const all = (
    (await fetch(`${h.server.httpUrl}/api/v1/samples?device=${DEVICE}`, { headers: AUTH }).then((r) => r.json())) as {
      samples: Row[];
    }
  ).samples;
  assert.equal(
    all.length,
    3,
    `exactly the 3rd and 6th image and the far one, got ${JSON.stringify(all.map((s) => s.reason))}`,
  );
  const byReason = all.map((s) => s.reason).sort();
  assert.deepEqual(byReason, ['every-nth', 'every-nth', 'large-error']);
  const farSample = samples.find((s) => s.reason === 'large-error')!;
  assert.equal(farSample.reference, far.prediction + 120);
  assert.equal(farSample.contentType, 'image/jpeg');
  assert.equal(farSample.sha256, sha(images[6]!), 'the kept input is the exact JPEG that was posted');
  const content = new Uint8Array(
    await (await fetch(`${h.server.httpUrl}/api/v1/samples/${farSample.id}/content`, { headers: AUTH })).arrayBuffer(),
  );
  assert.equal(sha(content), sha(images[6]!));
  const nth = all
    .filter((s) => s.reason === 'every-nth')
    .map((s) => s.sha256)
    .sort();
  assert.deepEqual(nth, [sha(images[2]!), sha(images[5]!)].sort());
});

test(
  'a capture window from the fleet keeps JSON inputs as sent on a device that allows it, and none on one that does not',
  { timeout: 120_000 },
  async (t) => {
    const h = await startTestFleet();
    t.after(() => h.close());
    const willing = await h.startAgent('capture-pi-1', {
      sync: { flushIntervalMs: 20 },
      sampling: { captureOnRequest: true, upload: 'on-request' },
    });
    // Sampling on, but not for the fleet's windows: it refuses them (Sampler.setCapture).
    const unwilling = await h.startAgent('capture-pi-2', {
      sync: { flushIntervalMs: 20 },
      sampling: { everyN: 1000, upload: 'with-sync' },
    });
    await h.deploySample('capture-pi-1');
    await h.deploySample('capture-pi-2');
    type Row = { id: number; deviceId: string; reason: string; contentType: string; model: string };
    const listed = async () =>
      (
        (await fetch(`${h.server.httpUrl}/api/v1/samples`, { headers: AUTH }).then((r) => r.json())) as {
          samples: Row[];
        }
      ).samples;
    const body = (level: number) => ({
      inputs: { image: { shape: [1, 3, 48, 64], data: new Array(3 * 48 * 64).fill(level) } },
    });
    const predict = async (apiUrl: string, level: number) =>
      assert.equal((await postJson(`${apiUrl}/v1/predict`, body(level))).status, 200);

    await predict(willing.apiUrl, 0.1); // before the window: not kept
    const bad = await fetch(`${h.server.httpUrl}/api/v1/devices/capture-pi-1/samples/capture`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...AUTH },
      body: '{"everyN": 0}',
    });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /everyN/);
    for (const device of ['capture-pi-1', 'capture-pi-2']) {
      const res = await fetch(`${h.server.httpUrl}/api/v1/devices/${device}/samples/capture`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...AUTH },
        body: '{"minutes": 5, "models": ["distance"]}',
      });
      assert.equal(res.status, 200);
      const answer = (await res.json()) as { capture: { until: number; everyN: number }; uploadUntil: number };
      assert.equal(answer.capture.everyN, 1);
      assert.ok(answer.uploadUntil > answer.capture.until, 'what is captured is also uploaded');
    }
    // The window reaches the devices with their desired state; predict until the first capture shows up.
    let level = 0.2;
    const first = await waitFor(
      'a captured input at the fleet',
      async () => {
        await predict(willing.apiUrl, level);
        await predict(unwilling.apiUrl, level);
        level += 0.01;
        return (await listed())[0];
      },
      20_000,
      200,
    );
    assert.equal(first.deviceId, 'capture-pi-1');
    assert.equal(first.reason, 'capture');
    assert.equal(first.contentType, 'application/json');
    const kept = JSON.parse(
      Buffer.from(
        await (await fetch(`${h.server.httpUrl}/api/v1/samples/${first.id}/content`, { headers: AUTH })).arrayBuffer(),
      ).toString(),
    ) as ReturnType<typeof body>;
    assert.deepEqual(kept.inputs.image.shape, [1, 3, 48, 64]);
    assert.ok(
      kept.inputs.image.data.every((v) => v === kept.inputs.image.data[0]) && kept.inputs.image.data[0]! >= 0.2,
      'the kept bytes are a request sent during the window',
    );
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(
      [...new Set((await listed()).map((s) => s.deviceId))],
      ['capture-pi-1'],
      'the device without captureOnRequest kept nothing',
    );
  },
);
