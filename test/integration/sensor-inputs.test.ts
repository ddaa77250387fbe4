/**
 * Sensor bindings "to reference values or model inputs": existing sensors publish to
 * a real Mosquitto (mosquitto_pub); the agent feeds their latest values to a tabular model,
 * which runs on every change; each prediction is buffered with the sensor values as features,
 * joined to a reference value from a third sensor, and reaches the fleet like any other record.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { node, serializeModel, floatTensor, valueInfo } from '@edgeloop/models/onnx-graph';
import { tempDir, waitFor } from '../support/fixtures.js';
import { mosquittoPub, startMosquitto, which } from '../support/mosquitto.js';
import { startTestFleet, until } from '../support/in-process-fleet.js';

const DEVICE = 'sensor-pi-2';

/** comfort = 2·temperature + 0.5·humidity + 1: easy to check by hand. */
function comfortModel(): Uint8Array {
  return serializeModel({
    graph: {
      name: 'comfort',
      nodes: [
        node({ opType: 'MatMul', inputs: ['x', 'w'], outputs: ['xw'] }),
        node({ opType: 'Add', inputs: ['xw', 'b'], outputs: ['comfort'] }),
      ],
      initializers: [floatTensor('w', [2, 1], [2, 0.5]), floatTensor('b', [1], [1])],
      inputs: [valueInfo('x', 'float32', ['batch', 2])],
      outputs: [valueInfo('comfort', 'float32', ['batch', 1])],
    },
  });
}

test(
  'sensor values feed a model: it runs on each change, records them as features, and its records reach the fleet with their reference',
  { timeout: 120_000 },
  async (t) => {
    for (const program of ['mosquitto', 'mosquitto_pub']) {
      if (!(await which(program))) {
        const msg = `*** ${program} NOT INSTALLED: skipping the sensor-input test (apt-get install mosquitto mosquitto-clients) ***`;
        console.warn(msg);
        t.skip(msg);
        return;
      }
    }
    const tmp = tempDir('sensor-inputs');
    const broker = await startMosquitto(tmp.dir);
    const h = await startTestFleet();
    t.after(async () => {
      await h.close();
      await broker.stop();
      tmp.cleanup();
    });
    await h.server.registry.register({
      name: 'comfort',
      bytes: comfortModel(),
      metadata: { preprocessing: { kind: 'none' }, postprocessing: { kind: 'regression', output: 'comfort' } },
    });
    const agent = await h.startAgent(DEVICE, {
      sync: { flushIntervalMs: 20 },
      sensors: {
        brokers: { site: { url: broker.url } },
        bindings: [
          {
            name: 'temperature',
            broker: 'site',
            topic: 'site/room1/temp',
            payload: { format: 'number' },
            role: 'input',
            model: 'comfort',
            index: 0,
          },
          {
            name: 'humidity',
            broker: 'site',
            topic: 'site/room1/env',
            payload: { format: 'json', valuePath: 'rh' },
            scale: 100,
            role: 'input',
            model: 'comfort',
            input: 'x',
            index: 1,
          },
          // What a person reported: the reference the predictions are judged against.
          {
            name: 'felt',
            broker: 'site',
            topic: 'site/room1/felt',
            payload: { format: 'number' },
            model: 'comfort',
            join: { by: 'timestamp', windowMs: 3000 },
            holdMs: 4000,
          },
        ],
        triggers: { comfort: { on: 'change', maxAgeMs: 60_000 } },
      },
    });
    await until('agent birth', async () => (await h.server.devices.get(DEVICE))?.online === true);
    await h.server.deployments.assign('comfort', 1, [DEVICE]);
    await until('comfort model active', async () => ((await h.server.devices.get(DEVICE))?.models.length ?? 0) > 0);
    const records = async () =>
      (await h.server.telemetry.query({ device: DEVICE, limit: 1000 })).filter((r) => r.model === 'comfort');

    // Only one sensor has spoken: nothing to predict yet. Retained, as many sensors publish, so the
    // value reaches the agent whenever its subscription is in place.
    await mosquittoPub(broker.port, 'site/room1/temp', '20', { retain: true });
    await waitFor(
      'the agent took the first sensor value',
      async () =>
        /edgeloop_sensor_messages_total\{outcome="accepted"\} 1\n/.test(
          await (await fetch(`${agent.apiUrl}/metrics`)).text(),
        ) || undefined,
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await records()).length, 0);
    // The second completes the input.
    await mosquittoPub(broker.port, 'site/room1/env', JSON.stringify({ rh: 0.4 }));
    await mosquittoPub(broker.port, 'site/room1/felt', '60.5');
    const first = await waitFor(
      'first sensor-fed record at the fleet, joined to its reference',
      async () => {
        const r = (await records())[0];
        return r && r.reference !== null ? r : undefined;
      },
      20_000,
    );
    assert.equal((await records()).length, 1, 'one sensor alone did not run the model');
    assert.equal(first.prediction, 2 * 20 + 0.5 * 40 + 1);
    assert.equal(first.features.temperature, 20);
    assert.equal(first.features.humidity, 40);
    assert.equal(first.reference, 60.5);

    // A garbage reading is rejected and changes nothing; the next good one runs the model again.
    await mosquittoPub(broker.port, 'site/room1/temp', 'warm');
    await mosquittoPub(broker.port, 'site/room1/temp', '22.5');
    const second = await waitFor(
      'second record after the temperature changed',
      async () => (await records()).find((r) => r.features.temperature === 22.5),
      20_000,
    );
    assert.equal(second.prediction, 2 * 22.5 + 0.5 * 40 + 1);
    assert.equal((await records()).length, 2, 'the rejected payload did not run the model');

    // Operators see the runs and the rejected payload in /metrics.
    const metrics = await (await fetch(`${agent.apiUrl}/metrics`)).text();
    assert.match(metrics, /edgeloop_sensor_model_runs_total\{model="comfort",outcome="ok"\} 2\n/);
    assert.match(metrics, /edgeloop_sensor_messages_total\{outcome="rejected"\} 1\n/);

    // The local API still serves the same model on demand.
    const res = await fetch(`${agent.apiUrl}/v1/models/comfort/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: { x: { shape: [1, 2], data: [10, 50] } } }),
    });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { prediction: number }).prediction, 46);
  },
);
