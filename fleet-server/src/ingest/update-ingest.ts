/**
 * @module ingest/update-ingest
 * Update state reports from devices (downloading → verified → active, or rejected/failed with
 * a reason). A report is taken only for the device's current session, with a reportSeq above the
 * last one of that session and not far beyond it (deploy/update-reports.ts).
 *
 * A report that names its outbox position (`stream`, `id`) is acked (kind "update") once taken,
 * and also when it repeats a reportSeq already taken in the session: that is the device sending
 * again a report whose ack it missed. A report whose outbox position is already stored (a second
 * copy after a reconnect, whatever its session) is not stored again, and is acked. A report for
 * another session gets no ack: the device sends it again on its current session.
 */
import type { Logger } from 'pino';
import { decodeMessage, deviceTopic, encodeMessage, updateReportSchema, type Ack } from '@edgeloop/protocol';
import { recordUpdateReport } from '../deploy/update-reports.js';
import type { FleetStore } from '../store/fleet-store.js';
import type { ChannelHandler } from './fleet-bus.js';

export function updateIngest(deps: {
  store: FleetStore;
  publish: (topic: string, payload: Buffer) => Promise<void>;
  log: Logger;
}): ChannelHandler {
  return async (deviceId, payload) => {
    const decoded = decodeMessage(updateReportSchema, payload, 64 * 1024);
    if (!decoded.ok)
      return void deps.log.warn({ deviceId, code: decoded.code, reason: decoded.reason }, 'rejected update report');
    const r = decoded.value;
    if (!(await deps.store.devices.exists(deviceId)))
      return void deps.log.warn({ deviceId }, 'rejected update report from a device that never announced itself');
    const taken = await recordUpdateReport(deps.store, deviceId, r);
    if (!taken.ok)
      deps.log.warn(
        { deviceId, session: r.session, reportSeq: r.reportSeq, code: taken.code, reason: taken.reason },
        'rejected update report',
      );
    else if (taken.value === 'duplicate')
      deps.log.info(
        { deviceId, session: r.session, reportSeq: r.reportSeq, stream: r.stream, id: r.id },
        'update report already stored (sent again after a reconnect); acked, not stored again',
      );
    else {
      const level = r.state === 'rejected' || r.state === 'failed' ? 'warn' : 'info';
      deps.log[level](
        { deviceId, model: r.model, version: r.version, state: r.state, code: r.code, reason: r.reason },
        `device update ${r.state}`,
      );
    }
    if (r.stream === undefined || r.id === undefined || (!taken.ok && taken.code !== 'replay')) return;
    const ack: Ack = { v: 1, kind: 'update', stream: r.stream, seqFrom: r.id, seqTo: r.id, status: 'stored' };
    await deps.publish(deviceTopic(deviceId, 'ack'), encodeMessage(ack));
  };
}
