/**
 * @module support/sim-samples
 * Retraining samples the way a device uploads them: simulator frames with the simulated sensor's
 * reading as the reference value, published by an enrolled device on its own `sample` channel
 * of the fleet broker. The server stores them as any device's; a loop run then finds labelled
 * recent data to train on without a camera, a sensor or an agent's sampling policy in the test.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { deviceTopic, encodeSample } from '@edgeloop/protocol';
import { generateDataset } from '@edgeloop/simulator';
import { waitFor } from './fixtures.js';
import { getJson } from './fleet-client.js';
import { enrollDevice, type FleetAccess } from './processes.js';

export interface SimSamples {
  /** An id for the uploading device, enrolled here (each call needs a new one). */
  deviceId: string;
  /** A shipped simulator scenario and one of its phases (held for every frame). */
  scenario: string;
  phase: string;
  count: number;
  seed: number;
  /** Scratch folder for the generated frames (must not exist or be empty). */
  dir: string;
  model: string;
  /** The version that "made the prediction" the sample belongs to. */
  version: number;
  /** Capture time of the newest sample (default now); the others are a second apart before it. */
  now?: number;
}

/**
 * Enrolls `deviceId`, publishes `count` frames as its samples (QoS 1) and resolves once the
 * server lists them all; returns their sha256s.
 */
export async function uploadSimSamples(server: FleetAccess & { mqttUrl: string }, o: SimSamples): Promise<string[]> {
  const frames = await generateDataset({
    scenario: o.scenario,
    phase: o.phase,
    count: o.count,
    seed: o.seed,
    out: o.dir,
    threads: 0,
    features: false,
    createdAt: 0,
  });
  const creds = await enrollDevice(server, o.deviceId);
  const client = await mqtt.connectAsync(server.mqttUrl, {
    clientId: o.deviceId,
    username: creds.username,
    password: creds.password,
    reconnectPeriod: 0,
  });
  const newest = o.now ?? Date.now();
  try {
    for (const [i, item] of frames.items.entries()) {
      const payload = encodeSample({
        v: 1,
        stream: 'camera',
        id: i + 1,
        seq: i + 1,
        model: o.model,
        version: o.version,
        ts: newest - (frames.items.length - 1 - i) * 1000,
        reason: 'capture',
        prediction: null,
        reference: item.label,
        contentType: 'image/jpeg',
        data: readFileSync(join(frames.dir, item.file)),
      });
      await client.publishAsync(deviceTopic(o.deviceId, 'sample'), payload, { qos: 1 });
    }
  } finally {
    await client.endAsync();
  }
  await waitFor(
    `${o.count} samples of ${o.deviceId} stored`,
    async () => {
      const { samples } = await getJson<{ samples: unknown[] }>(
        `${server.httpUrl}/api/v1/samples?device=${o.deviceId}&limit=10000`,
        server.adminToken,
      );
      return samples.length >= o.count || undefined;
    },
    30_000,
    200,
  );
  return frames.items.map((i) => i.sha256);
}
