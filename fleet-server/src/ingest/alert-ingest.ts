/**
 * @module ingest/alert-ingest
 * Local alerts from agents (the `alert` channel): a detector or device rule that changed state on
 * the device, maybe while it was offline. Validated, taken once per (device, stream, seq) — an
 * outbox re-sends what it did not see acked — recorded as a device alert that joins incidents
 * like the server's own, then acked (kind "alert") so the device forgets it. A malformed message
 * is logged and not acked: nothing the device sends again would make it valid.
 */
import type { Logger } from 'pino';
import {
  decodeMessage,
  deviceTopic,
  encodeMessage,
  localAlertSchema,
  type Ack,
  type LocalAlert,
} from '@edgeloop/protocol';
import type { MonitoringRepository } from '../store/fleet-store.js';
import type { ChannelHandler } from './fleet-bus.js';

export function alertIngest(deps: {
  repo: MonitoringRepository;
  record: (deviceId: string, alert: LocalAlert) => Promise<unknown>;
  publish: (topic: string, payload: Buffer) => Promise<void>;
  log: Logger;
}): ChannelHandler {
  return async (deviceId, payload) => {
    const decoded = decodeMessage(localAlertSchema, payload, 16 * 1024);
    if (!decoded.ok)
      return void deps.log.warn({ deviceId, code: decoded.code, reason: decoded.reason }, 'rejected local alert');
    const a = decoded.value;
    if (await deps.repo.markDeviceAlert(deviceId, a.stream, a.seq)) {
      try {
        await deps.record(deviceId, a);
      } catch (err) {
        // Not taken after all: without an ack the device sends it again, and then it must not count as seen.
        await deps.repo.forgetDeviceAlert(deviceId, a.stream, a.seq);
        throw err;
      }
    } else deps.log.debug({ deviceId, stream: a.stream, seq: a.seq }, 'local alert already taken (sent again); acked');
    const ack: Ack = { v: 1, kind: 'alert', stream: a.stream, seqFrom: a.seq, seqTo: a.seq, status: 'stored' };
    await deps.publish(deviceTopic(deviceId, 'ack'), encodeMessage(ack));
  };
}
