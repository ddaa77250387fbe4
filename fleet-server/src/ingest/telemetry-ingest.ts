/**
 * @module ingest/telemetry-ingest
 * Stores a device's telemetry batch, then acks it. The ack goes out only after the records are
 * committed, so an acked record is never lost; duplicates (re-sends) are skipped by the store.
 */
import type { Logger } from 'pino';
import { decodeTelemetryPayload, deviceTopic, encodeMessage, isValidId, type Ack } from '@edgeloop/protocol';
import type { DeviceStore } from '../store/device-store.js';
import type { TelemetryStore } from '../store/telemetry-store.js';
import type { ChannelHandler } from './fleet-bus.js';

export interface TelemetryIngestStats {
  batches: number;
  stored: number;
  duplicates: number;
  rejected: number;
}

export function telemetryIngest(deps: {
  devices: DeviceStore;
  telemetry: TelemetryStore;
  publish: (topic: string, payload: Buffer) => Promise<void>;
  log: Logger;
  stats: TelemetryIngestStats;
}): ChannelHandler & { afterStored: (fn: () => void | Promise<void>) => Promise<void> } {
  // One batch at a time, yielding in between: when a device sends several batches at once, the
  // ack for the first goes out before the next is stored, so the device can keep its window full.
  let queue: Promise<void> = Promise.resolve();
  const handler = (deviceId: string, payload: Buffer) => {
    const run = queue.then(() => ingest(deviceId, payload)).then(() => new Promise<void>((r) => setImmediate(r)));
    queue = run.catch(() => undefined);
    return run;
  };
  /**
   * Runs fn once every batch received so far is stored. Late reference values go through this:
   * a device publishes a record's batch before its reference update, and the update must not
   * overtake the insert it refers to (it would match no row and be lost).
   */
  const afterStored = (fn: () => void | Promise<void>) => {
    const run = queue.then(fn);
    queue = run.catch(() => undefined);
    return run;
  };
  return Object.assign(handler, { afterStored });

  async function ingest(deviceId: string, payload: Buffer): Promise<void> {
    const decoded = decodeTelemetryPayload(payload);
    if (!decoded.ok) {
      deps.stats.rejected++;
      deps.log.warn({ deviceId, code: decoded.code, reason: decoded.reason }, 'rejected telemetry batch');
      const range = identifiableRange(payload);
      if (range) {
        const nack: Ack = { v: 1, ...range, status: 'rejected', reason: decoded.reason.slice(0, 1000) };
        await deps.publish(deviceTopic(deviceId, 'ack'), encodeMessage(nack));
      }
      return;
    }
    const batch = decoded.value;
    if (!deps.devices.exists(deviceId)) {
      deps.log.info({ deviceId }, 'telemetry from a device without a birth yet; registering it');
      deps.devices.ensure(deviceId);
    }
    const added = deps.telemetry.insertBatch(deviceId, batch.stream, batch.records, Date.now(), batch.historical ?? false);
    deps.devices.touch(deviceId, batch.backlog, added, batch.dropped);
    deps.stats.batches++;
    deps.stats.stored += added;
    deps.stats.duplicates += batch.records.length - added;
    const ack: Ack = {
      v: 1, stream: batch.stream, seqFrom: batch.records[0]!.seq, seqTo: batch.records[batch.records.length - 1]!.seq, status: 'stored',
    };
    // Not awaited: the next batch need not wait for the broker's PUBACK of this ack.
    deps.publish(deviceTopic(deviceId, 'ack'), encodeMessage(ack)).catch((err: Error) => deps.log.warn({ deviceId, err: err.message }, 'ack not published; the device will re-send'));
  }
}

/** For a batch we refuse: if it still names its stream and seq range, tell the device, so it stops re-sending. */
function identifiableRange(payload: Buffer): { stream: string; seqFrom: number; seqTo: number } | undefined {
  try {
    const raw = JSON.parse(payload.toString('utf8')) as { stream?: unknown; records?: Array<{ seq?: unknown }> };
    const first = raw.records?.[0]?.seq;
    const last = raw.records?.[raw.records.length - 1]?.seq;
    if (typeof raw.stream === 'string' && isValidId(raw.stream) &&
        Number.isSafeInteger(first) && Number.isSafeInteger(last) && (first as number) >= 1 && (last as number) >= (first as number)) {
      return { stream: raw.stream, seqFrom: first as number, seqTo: last as number };
    }
  } catch {
    // not JSON: nothing identifiable
  }
  return undefined;
}
