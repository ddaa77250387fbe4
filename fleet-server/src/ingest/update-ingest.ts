/**
 * @module ingest/update-ingest
 * Update state reports from devices (downloading → verified → active, or rejected/failed with
 * a reason). Replayed reports (reportSeq not above the last seen) are refused.
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
    if (!deps.devices.recordUpdateReport(deviceId, r)) {
      return void deps.log.warn({ deviceId, reportSeq: r.reportSeq }, 'rejected replayed update report');
    }
    const level = r.state === 'rejected' || r.state === 'failed' ? 'warn' : 'info';
    deps.log[level]({ deviceId, model: r.model, version: r.version, state: r.state, code: r.code, reason: r.reason }, `device update ${r.state}`);
  };
}
