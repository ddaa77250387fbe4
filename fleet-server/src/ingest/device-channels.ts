/**
 * @module ingest/device-channels
 * Which handler takes each device→server channel, in what order, and at which QoS the answers go:
 * the one place that says where a device's message goes once the transport has it.
 */
import type { Logger } from 'pino';
import type { Deployments } from '../deploy/deployments.js';
import { desiredOnBirth } from '../deploy/desired-on-birth.js';
import type { SampleStore } from '../samples/sample-store.js';
import type { FleetStore } from '../store/fleet-store.js';
import type { TransferService } from '../transfer/transfer-service.js';
import type { DeviceTransport } from './device-transport.js';
import { deviceOrder } from './device-order.js';
import { alertIngest } from './alert-ingest.js';
import type { Monitoring } from '../monitoring/monitoring-service.js';
import { presenceIngest } from './presence-ingest.js';
import { presenceWriter } from './presence-writer.js';
import { referenceIngest } from './reference-ingest.js';
import { sampleIngest } from './sample-ingest.js';
import { summaryIngest } from './summary-ingest.js';
import { telemetryIngest, type TelemetryIngestStats } from './telemetry-ingest.js';
import { updateIngest } from './update-ingest.js';

export interface DeviceChannelDeps {
  store: FleetStore;
  deployments: Deployments;
  samples: SampleStore;
  transfer: TransferService;
  stats: TelemetryIngestStats;
  log: Logger;
  /** Records agents' local alerts (the `alert` channel). */
  monitoring: Monitoring;
}

/** Registers every channel's handler on the transport; returns the telemetry ingest (its saturation drives back-pressure). */
export function wireDeviceChannels(
  bus: DeviceTransport,
  { store, deployments, samples, transfer, stats, log, monitoring }: DeviceChannelDeps,
): ReturnType<typeof telemetryIngest> {
  const telemetry = store.telemetry;
  const sendDesired = desiredOnBirth(deployments, log);
  // A device's birth and update reports are taken in the order it sent them (ingest/device-order.ts).
  const inDeviceOrder = deviceOrder();
  const presence = presenceWriter(store);
  bus.on('presence', inDeviceOrder(presenceIngest({ presence, log, onBirth: sendDesired })));
  // Telemetry acks at QoS 0: a QoS 1 ack cost the broker an outgoing-store entry and a PUBACK
  // to read per batch, and bought nothing: an ack lost with its connection is not redelivered
  // to a clean session, and the device re-sends what was not acked (duplicates are skipped).
  const ingestTelemetry = telemetryIngest({ store, publish: (t, p) => bus.publish(t, p, false, 0), log, stats });
  // A device's batches after its birth are stored after that birth: telemetry waits for the
  // device's births, deaths and reports taken before it, queued or being written (a birth
  // written later would overwrite the batch's backlog with its older one).
  bus.on('telemetry', (deviceId, payload) => {
    const before = inDeviceOrder.settled(deviceId);
    if (!before) return ingestTelemetry(deviceId, payload);
    return before.then(() => ingestTelemetry(deviceId, payload));
  });
  bus.on('update', inDeviceOrder(updateIngest({ store, publish: (t, p) => bus.publish(t, p), log })));
  // A reference value may arrive before its record: the store keeps it until the record is stored.
  bus.on('reference', referenceIngest({ telemetry, publish: (t, p) => bus.publish(t, p), log }));
  bus.on(
    'alert',
    alertIngest({
      repo: store.monitoring,
      record: (deviceId, a) => monitoring.deviceAlert(deviceId, a),
      publish: (t, p) => bus.publish(t, p),
      log,
    }),
  );
  bus.on('sample', sampleIngest({ samples, publish: (t, p) => bus.publish(t, p), log }));
  // Edge summaries add to the same rollups as records; a re-sent one is skipped.
  bus.on('summary', summaryIngest({ store, publish: (t, p) => bus.publish(t, p), log }));
  bus.on(
    'fetch',
    transfer.fetchHandler((t, p) => bus.publish(t, p)),
  );
  return ingestTelemetry;
}
