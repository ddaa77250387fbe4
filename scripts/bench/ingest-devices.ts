/**
 * @module bench/ingest-devices
 * The device side of fleet.ingest_rate, in its own process so the fleet server has a core to
 * itself: many MQTT clients, each logged in with its own enrolled credentials, publishing
 * pre-encoded compact telemetry batches (QoS 1) as fast as the broker takes them, at most
 * `window` unacknowledged batches per device, as an agent does.
 * Input (JSON on argv[2]): {mqttUrl, devices: [{id, password}], batches, recordsPerBatch, window}.
 */
import mqtt from 'mqtt';
import { deviceTopic, encodeTelemetryBatch } from '@edgeloop/protocol';
import { benchRecord } from './bench-records.js';

interface Plan {
  mqttUrl: string;
  devices: Array<{ id: string; password: string }>;
  batches: number;
  recordsPerBatch: number;
  window: number;
}
const plan = JSON.parse(process.argv[2]!) as Plan;

async function runDevice(device: Plan['devices'][number]): Promise<void> {
  const stream = `s${device.id
    .replace(/[^a-z0-9]/g, '')
    .padEnd(16, '0')
    .slice(0, 16)}`;
  const payloads = Array.from({ length: plan.batches }, (_, b) =>
    encodeTelemetryBatch({
      v: 1,
      stream,
      records: Array.from({ length: plan.recordsPerBatch }, (_, i) => benchRecord(b * plan.recordsPerBatch + i)),
      backlog: 0,
    }),
  );
  const client = await mqtt.connectAsync(plan.mqttUrl, {
    clientId: device.id,
    username: device.id,
    password: device.password,
    reconnectPeriod: 0,
    writeCache: false,
  });
  const acked = new Set<number>();
  let wake: (() => void) | undefined;
  client.on('message', (_topic, payload) => {
    const ack = JSON.parse(payload.toString()) as { seqTo?: number };
    if (typeof ack.seqTo === 'number') acked.add(ack.seqTo);
    wake?.();
  });
  await client.subscribeAsync(deviceTopic(device.id, 'ack'), { qos: 1 });
  const lastSeqOf = (b: number) => (b + 1) * plan.recordsPerBatch;
  let done = 0;
  for (let b = 0; b < payloads.length; b++) {
    while (b - done >= plan.window) {
      if (acked.has(lastSeqOf(done))) done++;
      else await new Promise<void>((r) => (wake = r));
    }
    void client.publishAsync(deviceTopic(device.id, 'telemetry'), payloads[b]!, { qos: 1 });
  }
  while (done < payloads.length) {
    if (acked.has(lastSeqOf(done))) done++;
    else await new Promise<void>((r) => (wake = r));
  }
  await client.endAsync();
}

await Promise.all(plan.devices.map(runDevice));
process.stdout.write('done\n');
