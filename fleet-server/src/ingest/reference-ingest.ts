/**
 * @module ingest/reference-ingest
 * Late reference values for records already stored: sets `reference` on the matching
 * (device, stream, seq) rows, then acks. Idempotent, so re-sent updates are harmless.
 */
import type { Logger } from 'pino';
import { decodeMessage, deviceTopic, encodeMessage, referenceUpdateBatchSchema, type Ack } from '@edgeloop/protocol';
import type { TelemetryStore } from '../store/telemetry-store.js';
import type { ChannelHandler } from './fleet-bus.js';

export function referenceIngest(deps: {
  telemetry: TelemetryStore;
  publish: (topic: string, payload: Buffer) => Promise<void>;
  log: Logger;
}): ChannelHandler {
  return async (deviceId, payload) => {
    const decoded = decodeMessage(referenceUpdateBatchSchema, payload);
    if (!decoded.ok) return void deps.log.warn({ deviceId, code: decoded.code, reason: decoded.reason }, 'rejected reference update batch');
    const batch = decoded.value;
    const matched = deps.telemetry.updateReferences(deviceId, batch.stream, batch.updates);
    if (matched < batch.updates.length) {
      deps.log.warn({ deviceId, stream: batch.stream, missing: batch.updates.length - matched }, 'reference updates for records this server does not have');
    }
    const ack: Ack = {
      v: 1, kind: 'reference', stream: batch.stream, seqFrom: batch.updates[0]!.id, seqTo: batch.updates[batch.updates.length - 1]!.id, status: 'stored',
    };
    await deps.publish(deviceTopic(deviceId, 'ack'), encodeMessage(ack));
  };
}
