/**
 * @module ingest/reference-ingest
 * Late reference values: sets `reference` on the matching (device, stream, seq) record, then
 * acks. A value for a record not stored yet (its batch still on the way, or re-sent after a
 * reconnect) waits in the store and is applied when the record arrives, so the order in which
 * the two reach the server does not matter. Idempotent, so re-sent updates are harmless.
 */
import type { Logger } from 'pino';
import { decodeMessage, deviceTopic, encodeMessage, referenceUpdateBatchSchema, type Ack } from '@edgeloop/protocol';
import type { TelemetryRepository } from '../store/fleet-store.js';
import type { ChannelHandler } from './fleet-bus.js';

export function referenceIngest(deps: {
  telemetry: TelemetryRepository;
  publish: (topic: string, payload: Buffer) => Promise<void>;
  log: Logger;
}): ChannelHandler {
  return async (deviceId, payload) => {
    const decoded = decodeMessage(referenceUpdateBatchSchema, payload);
    if (!decoded.ok)
      return void deps.log.warn(
        { deviceId, code: decoded.code, reason: decoded.reason },
        'rejected reference update batch',
      );
    const batch = decoded.value;
    const { pending } = await deps.telemetry.updateReferences(deviceId, batch.stream, batch.updates);
    if (pending > 0)
      deps.log.debug(
        { deviceId, stream: batch.stream, pending },
        'reference values for records not stored yet wait for them',
      );
    const ack: Ack = {
      v: 1,
      kind: 'reference',
      stream: batch.stream,
      seqFrom: batch.updates[0]!.id,
      seqTo: batch.updates[batch.updates.length - 1]!.id,
      status: 'stored',
    };
    await deps.publish(deviceTopic(deviceId, 'ack'), encodeMessage(ack));
  };
}
