/**
 * The fleet simulator end to end: simulated cars post rendered frames to real agents, their ToF
 * sensors publish on the fleet broker, the agents join the readings to their predictions through
 * an ordinary reference binding, and the records reach the fleet server with their references.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { SampleSummary } from '@edgeloop/protocol/rest';
import { startSimulatedFleet } from '@edgeloop/simulator/fleet';
import { waitFor } from '../support/fixtures.js';
import { startTestFleet } from '../support/in-process-fleet.js';
import { getJson, TEST_MQTT_SERVER } from '../support/fleet-client.js';

const DEVICES = ['sim-car-1', 'sim-car-2'];

test(
  'two simulated cars: predictions with the sensor readings as reference arrive at the fleet',
  { timeout: 90_000 },
  async (t) => {
    const h = await startTestFleet();
    t.after(() => h.close());
    const readings = new Map<string, number>();
    const sim = await startSimulatedFleet({
      scenario: 'baseline',
      deviceIds: DEVICES,
      seed: 1,
      dataDir: join(h.dir, 'sim'),
      fleet: { mqttUrl: h.server.mqttUrl, httpUrl: h.server.httpUrl, trustedKeys: [h.server.publicKey] },
      enroll: (id) => h.enroll(id),
      sensorCredentials: TEST_MQTT_SERVER,
      agent: { sync: { flushIntervalMs: 20 }, sampling: { everyN: 2, upload: 'with-sync' } },
      onFrame: (deviceId, f) => readings.set(`${deviceId}-${f.k}`, f.readingMm),
    });
    t.after(() => sim.close());
    for (const id of DEVICES) await h.deploySample(id);
    sim.run();

    const stored = async (device: string) => h.server.telemetry.query({ device, limit: 1000 });
    for (const device of DEVICES) {
      await waitFor(
        `${device}: 8 records with a reference`,
        async () => (await stored(device)).filter((r) => r.reference !== null).length >= 8 || undefined,
        30_000,
        100,
      );
    }
    const samples = async (device: string) =>
      (await getJson<{ samples: SampleSummary[] }>(`${h.server.httpUrl}/api/v1/samples?device=${device}&limit=1000`))
        .samples;
    for (const device of DEVICES)
      await waitFor(
        `${device}: 4 kept frames at the fleet`,
        async () => (await samples(device)).length >= 4 || undefined,
      );
    await sim.close();

    for (const device of DEVICES) {
      const records = (await stored(device)).filter((r) => r.reference !== null);
      // Each frame's reading is published at the moment of its frame: the nearest reading in time
      // is that frame's own, so the reference is exactly what the sensor said for that frame.
      const own = records.filter((r) => r.requestId && readings.get(r.requestId) === r.reference);
      assert.ok(
        own.length >= records.length * 0.9,
        `${device}: ${own.length} of ${records.length} references are the reading of their own frame`,
      );
      assert.ok(records.every((r) => r.model === 'distance' && typeof r.prediction === 'number'));
    }
    // Kept frames carry their reference, so a dataset made from them is labelled: the same value as
    // the record they were kept with.
    for (const device of DEVICES) {
      const records = new Map((await stored(device)).map((r) => [r.seq, r.reference]));
      const kept = await samples(device);
      const labelled = kept.filter((k) => k.reference !== null);
      assert.ok(
        labelled.length >= kept.length * 0.9,
        `${device}: ${labelled.length} of ${kept.length} samples labelled`,
      );
      // Records still in an agent's buffer when it stopped are not at the fleet: compare the rest.
      const synced = kept.filter((k) => records.has(k.seq));
      assert.ok(synced.length >= 2);
      for (const k of synced) assert.equal(k.reference, records.get(k.seq), `${device} seq ${k.seq}`);
      assert.ok(kept.every((k) => k.contentType === 'image/jpeg'));
    }
    const stats = sim.stats();
    for (const device of DEVICES) {
      assert.ok(stats[device]!.predicted >= 8, `${device} predicted ${stats[device]!.predicted}`);
      assert.equal(stats[device]!.readings, stats[device]!.predicted + stats[device]!.failed);
    }
    // Different seeds per device: the two cars do not show the same frames.
    const a = [...readings].filter(([k]) => k.startsWith('sim-car-1')).map(([, v]) => v);
    const b = [...readings].filter(([k]) => k.startsWith('sim-car-2')).map(([, v]) => v);
    assert.notDeepEqual(a.slice(0, 8), b.slice(0, 8));
  },
);
