/**
 * @module ingest/update-ingest
 * Update state reports from devices (downloading → verified → active, or rejected/failed with
 * a reason). A report is taken only for the device's current session, with a reportSeq above the
 * last one of that session and not far beyond it (device-store.ts).
 */
import type { Logger } from 'pino';
import { decodeMessage, updateReportSchema } from '@edgeloop/protocol';
import type { DeviceStore } from '../store/device-store.js';
import type { ChannelHandler } from './fleet-bus.js';

export function updateIngest(deps: { devices: DeviceStore; log: Logger }): ChannelHandler {
  return (deviceId, payload) => {
    const decoded = decodeMessage(updateReportSchema, payload, 64 * 1024);
    if (!decoded.ok) return void deps.log.warn({ deviceId, code: decoded.code, reason: decoded.reason }, 'rejected update report');
    const r = decoded.value;
    if (!deps.devices.exists(deviceId)) return void deps.log.warn({ deviceId }, 'rejected update report from a device that never announced itself');
    const taken = deps.devices.recordUpdateReport(deviceId, r);
    if (!taken.ok) {
      return void deps.log.warn({ deviceId, session: r.session, reportSeq: r.reportSeq, code: taken.code, reason: taken.reason }, 'rejected update report');
    }
    const level = r.state === 'rejected' || r.state === 'failed' ? 'warn' : 'info';
    deps.log[level]({ deviceId, model: r.model, version: r.version, state: r.state, code: r.code, reason: r.reason }, `device update ${r.state}`);
  };
}
