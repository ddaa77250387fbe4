/**
 * @module ingest/presence-ingest
 * Birth and death messages: who is online, in which session, running what.
 */
import type { Logger } from 'pino';
import { decodeMessage, presenceSchema } from '@edgeloop/protocol';
import type { DeviceRepository } from '../store/fleet-store.js';
import type { ChannelHandler } from './fleet-bus.js';

export function presenceIngest(deps: {
  devices: DeviceRepository;
  log: Logger;
  onBirth?: (deviceId: string) => void;
}): ChannelHandler {
  return async (deviceId, payload) => {
    if (payload.length === 0) return; // a cleared retained message
    const decoded = decodeMessage(presenceSchema, payload, 64 * 1024);
    if (!decoded.ok)
      return void deps.log.warn({ deviceId, code: decoded.code, reason: decoded.reason }, 'rejected presence message');
    const msg = decoded.value;
    if (msg.deviceId !== deviceId) {
      return void deps.log.warn(
        { deviceId, claimed: msg.deviceId },
        'rejected presence message: device id does not match its topic',
      );
    }
    if (msg.type === 'birth') {
      await deps.devices.recordBirth(msg);
      deps.log.info(
        { deviceId, session: msg.session, models: msg.models.map((m) => `${m.name}@${m.version}`) },
        'device online',
      );
      deps.onBirth?.(deviceId);
    } else if (await deps.devices.recordDeath(deviceId, msg.session)) {
      deps.log.info({ deviceId, session: msg.session }, 'device offline');
    }
  };
}
