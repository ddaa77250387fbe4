/**
 * @module support/bench-device
 * An enrolled device without an agent: it logs in to the fleet broker with its own credentials
 * and sends exactly what a test gives it on the device channels an agent uses — retraining
 * samples (the image, the prediction, the sensor's reference value, the capture time) and local
 * alerts — then waits for the server's acks, so everything sent is stored when a call returns.
 * For tests that need labelled samples with chosen references (a mis-calibrated sensor, garbage
 * labels) or a device-raised incident without running cameras.
 *
 * It connects as `<device id>:bench`, so a real agent of the same device can stay connected; its
 * stream name differs from an agent's, so neither takes the other's acks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import {
  ackSchema,
  decodeMessage,
  deviceTopic,
  encodeMessage,
  encodeSample,
  type Ack,
  type LocalAlert,
} from '@edgeloop/protocol';
import { generateDataset } from '@edgeloop/simulator';

const STREAM = 'bench';
const ACK_TIMEOUT_MS = 30_000;

/** A camera frame and the simulated ToF reading taken with it. */
export interface LabelledFrame {
  bytes: Buffer;
  /** The reading in mm (noise included), as an honest sensor gave it. */
  label: number;
}

/** Frames of one phase of a shipped scenario, rendered as the simulated cars render them. */
export async function simulatorFrames(o: {
  out: string;
  count: number;
  seed: number;
  scenario?: string;
}): Promise<LabelledFrame[]> {
  const g = await generateDataset({
    scenario: o.scenario ?? 'baseline',
    count: o.count,
    seed: o.seed,
    out: o.out,
    threads: 0,
    features: false,
    createdAt: 1,
  });
  return g.items.map((item) => ({ bytes: readFileSync(join(g.dir, item.file)), label: item.label }));
}

export interface BenchSample {
  bytes: Buffer;
  /** What the device's sensor said (null: no reference). */
  reference: number | null;
  /** Capture time, epoch ms. */
  ts: number;
  prediction?: number | null;
}

export interface BenchDevice {
  readonly deviceId: string;
  /** Uploads the samples of `model` v`version` and resolves once the server stored every one. */
  upload(model: string, version: number, samples: readonly BenchSample[]): Promise<void>;
  /** Sends a local alert (firing or resolved) and resolves once the server took it. */
  alert(a: Omit<LocalAlert, 'v' | 'stream' | 'seq' | 'alertId'> & { alertId?: string }): Promise<void>;
  close(): Promise<void>;
}

export async function connectBenchDevice(o: {
  mqttUrl: string;
  deviceId: string;
  credentials: { username: string; password: string };
}): Promise<BenchDevice> {
  const client: MqttClient = await mqtt.connectAsync(o.mqttUrl, {
    clientId: `${o.deviceId}:bench`,
    ...o.credentials,
    reconnectPeriod: 0,
  });
  const waiting = new Map<string, () => void>();
  const key = (kind: string, seq: number) => `${kind}:${seq}`;
  client.on('message', (_topic, payload) => {
    const ack = decodeMessage(ackSchema, payload);
    if (!ack.ok || ack.value.stream !== STREAM) return;
    const a: Ack = ack.value;
    for (let s = a.seqFrom; s <= a.seqTo; s++) {
      const k = key(a.kind ?? 'telemetry', s);
      waiting.get(k)?.();
      waiting.delete(k);
    }
  });
  await client.subscribeAsync(deviceTopic(o.deviceId, 'ack'), { qos: 1 });
  let sampleSeq = 0;
  let alertSeq = 0;

  const acked = (kind: string, seq: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(key(kind, seq));
        reject(new Error(`${o.deviceId}: the fleet did not ack ${kind} ${seq} within ${ACK_TIMEOUT_MS} ms`));
      }, ACK_TIMEOUT_MS);
      waiting.set(key(kind, seq), () => {
        clearTimeout(timer);
        resolve();
      });
    });

  return {
    deviceId: o.deviceId,
    async upload(model, version, samples) {
      // A few in flight at a time: the broker takes them in order, the acks come back as stored.
      const BATCH = 20;
      for (let i = 0; i < samples.length; i += BATCH) {
        const sent = samples.slice(i, i + BATCH).map(async (s) => {
          const seq = ++sampleSeq;
          const stored = acked('sample', seq);
          await client.publishAsync(
            deviceTopic(o.deviceId, 'sample'),
            encodeSample({
              v: 1,
              stream: STREAM,
              id: seq,
              seq,
              model,
              version,
              ts: s.ts,
              reason: 'capture',
              prediction: s.prediction ?? null,
              reference: s.reference,
              contentType: 'image/jpeg',
              data: new Uint8Array(s.bytes),
            }),
            { qos: 1 },
          );
          await stored;
        });
        await Promise.all(sent);
      }
    },
    async alert({ alertId, ...a }) {
      const seq = ++alertSeq;
      const taken = acked('alert', seq);
      const message: LocalAlert = { v: 1, stream: STREAM, seq, alertId: alertId ?? `${a.rule}-${a.model}`, ...a };
      await client.publishAsync(deviceTopic(o.deviceId, 'alert'), encodeMessage(message), { qos: 1 });
      await taken;
    },
    async close() {
      waiting.clear();
      // Forced: nothing is in flight once a call returned, and the server may be gone already.
      await client.endAsync(true);
    },
  };
}
