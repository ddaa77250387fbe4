/**
 * @module ingest/sample-ingest
 * Stores a retraining sample a device uploaded, then acks it (kind "sample").
 */
import type { Logger } from 'pino';
import { decodeSample, deviceTopic, encodeMessage, type Ack } from '@edgeloop/protocol';
import type { SampleStore } from '../samples/sample-store.js';
import type { ChannelHandler } from './fleet-bus.js';

export function sampleIngest(deps: {
  samples: SampleStore;
  publish: (topic: string, payload: Buffer) => Promise<void>;
  log: Logger;
}): ChannelHandler {
  return async (deviceId, payload) => {
    const decoded = decodeSample(payload);
    if (!decoded.ok)
      return void deps.log.warn({ deviceId, code: decoded.code, reason: decoded.reason }, 'rejected sample');
    const s = decoded.value;
    const fresh = await deps.samples.insert(deviceId, s);
    deps.log.debug({ deviceId, seq: s.seq, reason: s.reason, bytes: s.data.length, fresh }, 'sample stored');
    const ack: Ack = { v: 1, kind: 'sample', stream: s.stream, seqFrom: s.id, seqTo: s.id, status: 'stored' };
    await deps.publish(deviceTopic(deviceId, 'ack'), encodeMessage(ack));
  };
}
