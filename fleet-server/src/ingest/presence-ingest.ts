/**
 * @module ingest/presence-ingest
 * Birth and death messages: who is online, in which session, running what. They are stored
 * through the presence writer (group commits: presence-writer.ts).
 */
import type { Logger } from 'pino';
import { decodeMessage, presenceSchema } from '@edgeloop/protocol';
import type { ChannelHandler } from './fleet-bus.js';
import type { PresenceWriter } from './presence-writer.js';

export function presenceIngest(deps: {
  presence: PresenceWriter;
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
      await deps.presence.birth(msg);
      deps.log.info(
        { deviceId, session: msg.session, models: msg.models.map((m) => `${m.name}@${m.version}`) },
        'device online',
      );
      deps.onBirth?.(deviceId);
    } else if (await deps.presence.death(deviceId, msg.session)) {
      deps.log.info({ deviceId, session: msg.session }, 'device offline');
    }
  };
}
