/**
 * @module ingest/telemetry-ingest
 * Stores devices' telemetry batches, then acks them. An ack goes out only after its records are
 * committed, so an acked record is never lost; duplicates (re-sends) are skipped by the store.
 *
 * Group commit: batches that arrived together (one device's window, or several devices at once)
 * are stored in one transaction, so one commit and one fsync cover all of them. A group is
 * capped in records, so a device's first acks never wait for its whole window: while the
 * server stores one group the device keeps filling the rest of its window.
 */
import type { Logger } from 'pino';
import {
  decodeTelemetryPayload,
  deviceTopic,
  encodeMessage,
  isValidId,
  type Ack,
  type TelemetryBatch,
} from '@edgeloop/protocol';
import type { FleetStore } from '../store/fleet-store.js';
import type { ChannelHandler } from './fleet-bus.js';

export interface TelemetryIngestStats {
  batches: number;
  stored: number;
  duplicates: number;
  rejected: number;
}

/** Records per group commit: about half of a device's default window (8 × 2000). */
export const MAX_GROUP_RECORDS = 8000;

interface Settle {
  resolve: () => void;
  reject: (err: Error) => void;
}
interface BatchJob extends Settle {
  deviceId: string;
  payload: Buffer;
  batch?: TelemetryBatch;
}
type Decoded = BatchJob & { batch: TelemetryBatch };

export function telemetryIngest(deps: {
  store: FleetStore;
  publish: (topic: string, payload: Buffer) => Promise<void>;
  log: Logger;
  stats: TelemetryIngestStats;
}): ChannelHandler {
  const jobs: BatchJob[] = [];
  let draining = false;

  return (deviceId: string, payload: Buffer) =>
    new Promise<void>((resolve, reject) => {
      jobs.push({ deviceId, payload, resolve, reject });
      if (draining) return;
      draining = true;
      // After the current I/O callbacks, so every batch that came in the same read joins the group.
      setImmediate(() => void drain());
    });

  async function drain(): Promise<void> {
    try {
      while (jobs.length > 0) {
        const group = takeGroup();
        if (group.length > 0) await storeGroup(group);
        // Lets the acks go out and the next batches come in before the next group.
        await new Promise<void>((r) => setImmediate(r));
      }
    } finally {
      draining = false;
    }
  }

  /** Decodes batches from the head of the queue, up to MAX_GROUP_RECORDS (at least one batch). */
  function takeGroup(): Decoded[] {
    const group: Decoded[] = [];
    let records = 0;
    for (let job = jobs[0]; job; job = jobs[0]) {
      if (!job.batch) {
        const decoded = decodeTelemetryPayload(job.payload);
        if (!decoded.ok) {
          jobs.shift();
          refuse(job, decoded.code, decoded.reason);
          continue;
        }
        job.batch = decoded.value;
      }
      if (group.length > 0 && records + job.batch.records.length > MAX_GROUP_RECORDS) break;
      jobs.shift();
      group.push(job as Decoded);
      records += job.batch.records.length;
    }
    return group;
  }

  async function storeGroup(group: Decoded[]): Promise<void> {
    let added: number[];
    try {
      added = await deps.store.transaction(async () => {
        const counts: number[] = [];
        for (const job of group) counts.push(await insert(job));
        return counts;
      });
    } catch (err) {
      if (group.length === 1) return group[0]!.reject(err as Error);
      // Something in one batch failed the whole transaction: store the others on their own.
      for (const job of group) await storeGroup([job]);
      return;
    }
    group.forEach((job, i) => {
      const { batch, deviceId } = job;
      deps.stats.batches++;
      deps.stats.stored += added[i]!;
      deps.stats.duplicates += batch.records.length - added[i]!;
      const ack: Ack = {
        v: 1,
        stream: batch.stream,
        seqFrom: batch.records[0]!.seq,
        seqTo: batch.records[batch.records.length - 1]!.seq,
        status: 'stored',
      };
      // Not awaited: the next group need not wait for the broker's PUBACK of this ack.
      deps
        .publish(deviceTopic(deviceId, 'ack'), encodeMessage(ack))
        .catch((err: Error) =>
          deps.log.warn({ deviceId, err: err.message }, 'ack not published; the device will re-send'),
        );
      job.resolve();
    });
  }

  async function insert({ deviceId, batch }: Decoded): Promise<number> {
    const { devices, telemetry } = deps.store;
    if (await devices.ensure(deviceId))
      deps.log.info({ deviceId }, 'telemetry from a device without a birth yet; registered it');
    const added = await telemetry.insertBatch(
      deviceId,
      batch.stream,
      batch.records,
      Date.now(),
      batch.historical ?? false,
    );
    await devices.touch(deviceId, batch.backlog, added, batch.dropped);
    return added;
  }

  function refuse(job: BatchJob, code: string, reason: string): void {
    deps.stats.rejected++;
    deps.log.warn({ deviceId: job.deviceId, code, reason }, 'rejected telemetry batch');
    const range = identifiableRange(job.payload);
    if (range) {
      const nack: Ack = { v: 1, ...range, status: 'rejected', reason: reason.slice(0, 1000) };
      deps
        .publish(deviceTopic(job.deviceId, 'ack'), encodeMessage(nack))
        .catch((err: Error) => deps.log.warn({ deviceId: job.deviceId, err: err.message }, 'nack not published'));
    }
    job.resolve();
  }
}

/** For a batch we refuse: if it still names its stream and seq range, tell the device, so it stops re-sending. */
function identifiableRange(payload: Buffer): { stream: string; seqFrom: number; seqTo: number } | undefined {
  try {
    const raw = JSON.parse(payload.toString('utf8')) as { stream?: unknown; records?: Array<{ seq?: unknown }> };
    const first = raw.records?.[0]?.seq;
    const last = raw.records?.[raw.records.length - 1]?.seq;
    if (
      typeof raw.stream === 'string' &&
      isValidId(raw.stream) &&
      Number.isSafeInteger(first) &&
      Number.isSafeInteger(last) &&
      (first as number) >= 1 &&
      (last as number) >= (first as number)
    ) {
      return { stream: raw.stream, seqFrom: first as number, seqTo: last as number };
    }
  } catch {
    // not JSON: nothing identifiable
  }
  return undefined;
}
