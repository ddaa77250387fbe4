/**
 * @module ingest/telemetry-ingest
 * Stores devices' telemetry batches, then acks them. An ack goes out only after its records are
 * committed, so an acked record is never lost; duplicates (re-sends) are skipped by the store.
 *
 * Group commit: batches that arrived together (one device's window, or several devices at once)
 * are stored in one transaction by one store call (telemetry.storeBatches), so one commit and
 * one fsync cover all of them. A group is capped in records, so a device's first acks never wait
 * for its whole window: while the server stores one group the device keeps filling the rest of
 * its window. Where the store can write on several connections (telemetry.parallelWrites > 1,
 * PostgreSQL), up to that many groups are in flight at once: the next group is decoded and
 * inserted while the previous one waits for its commit. A device is never in two groups in
 * flight, so its batches are stored and acked in the order they came and concurrent groups never
 * wait for each other's row locks.
 *
 * Back-pressure: the batches received but not yet taken into a group are counted in payload
 * bytes. From MAX_QUEUED_BYTES on, `saturated` is true and the transport should stop reading
 * (it still may hand in what it has: nothing is refused for being late); once the queue is down
 * to half of that, the `onDrained` callbacks run. Decoded records are held only for the groups
 * in flight, so memory stays bounded by both.
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
import type { FleetStore, IngestBatch, StoredBatch } from '../store/fleet-store.js';
import type { ChannelHandler } from './fleet-bus.js';

export interface TelemetryIngestStats {
  batches: number;
  stored: number;
  duplicates: number;
  rejected: number;
}

/** Records per group commit: about half of a device's default window (8 × 2000). */
export const MAX_GROUP_RECORDS = 8000;
/**
 * Batches in one group at most. A group is stored in one synchronous stretch of the main thread
 * (on SQLite), and while it runs the broker accepts no connection and reads no socket: thousands
 * of one-record batches from a large fleet made that stretch long enough to starve connects.
 */
export const MAX_GROUP_BATCHES = 256;
/** Payload bytes received and not yet taken into a group at which the ingest says it is saturated. */
export const MAX_QUEUED_BYTES = 16 * 1024 * 1024;

/** The ingest handler, with what the transport needs for back-pressure. */
export interface TelemetryIngest extends ChannelHandler {
  (deviceId: string, payload: Buffer): Promise<void>;
  /** Payload bytes received and not yet taken into a group. */
  readonly queuedBytes: number;
  /** True from MAX_QUEUED_BYTES queued until the queue is down to half of that. */
  readonly saturated: boolean;
  /** Runs cb once, when the ingest is no longer saturated (at once if it is not). */
  onDrained(cb: () => void): void;
}

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
  /** Override of MAX_QUEUED_BYTES (tests). */
  maxQueuedBytes?: number;
}): TelemetryIngest {
  const maxQueued = deps.maxQueuedBytes ?? MAX_QUEUED_BYTES;
  const parallel = Math.max(1, deps.store.telemetry.parallelWrites);
  let jobs: BatchJob[] = [];
  /** Devices with a batch in a group in flight. */
  const busy = new Set<string>();
  let inFlight = 0;
  let scheduled = false;
  let queuedBytes = 0;
  let saturated = false;
  let drainedCallbacks: Array<() => void> = [];

  const handler = (deviceId: string, payload: Buffer) =>
    new Promise<void>((resolve, reject) => {
      jobs.push({ deviceId, payload, resolve, reject });
      queuedBytes += payload.length;
      if (queuedBytes >= maxQueued) saturated = true;
      schedule();
    });

  // After the current I/O callbacks, so every batch that came in the same read joins the group.
  function schedule(): void {
    if (scheduled || inFlight >= parallel) return;
    scheduled = true;
    setImmediate(startGroups);
  }

  function startGroups(): void {
    scheduled = false;
    while (inFlight < parallel && jobs.length > 0) {
      const group = takeGroup();
      if (group.length === 0) break;
      inFlight++;
      for (const job of group) busy.add(job.deviceId);
      void storeGroup(group).finally(() => {
        for (const job of group) busy.delete(job.deviceId);
        inFlight--;
        if (jobs.length > 0) schedule();
      });
    }
    released();
  }

  function released(): void {
    if (!saturated || queuedBytes > maxQueued / 2) return;
    saturated = false;
    const callbacks = drainedCallbacks;
    drainedCallbacks = [];
    for (const cb of callbacks) cb();
  }

  /**
   * Decodes queued batches of devices not in a group in flight, in arrival order, up to
   * MAX_GROUP_RECORDS (at least one batch). A device whose batch does not fit waits whole, so
   * its batches never overtake each other.
   */
  function takeGroup(): Decoded[] {
    const group: Decoded[] = [];
    const rest: BatchJob[] = [];
    let records = 0;
    let full = false;
    for (const job of jobs) {
      if (full || busy.has(job.deviceId)) {
        rest.push(job);
        continue;
      }
      if (!job.batch) {
        const decoded = decodeTelemetryPayload(job.payload);
        if (!decoded.ok) {
          queuedBytes -= job.payload.length;
          refuse(job, decoded.code, decoded.reason);
          continue;
        }
        job.batch = decoded.value;
      }
      if (
        group.length > 0 &&
        (records + job.batch.records.length > MAX_GROUP_RECORDS || group.length >= MAX_GROUP_BATCHES)
      ) {
        full = true;
        rest.push(job);
        continue;
      }
      queuedBytes -= job.payload.length;
      group.push(job as Decoded);
      records += job.batch.records.length;
    }
    jobs = rest;
    return group;
  }

  async function storeGroup(group: Decoded[]): Promise<void> {
    let stored: StoredBatch[];
    try {
      stored = await deps.store.telemetry.storeBatches(group.map(toIngestBatch), Date.now());
    } catch (err) {
      if (group.length === 1) return group[0]!.reject(err as Error);
      // Something in one batch failed the whole transaction: store the others on their own.
      for (const job of group) await storeGroup([job]);
      return;
    }
    group.forEach((job, i) => {
      const { batch, deviceId } = job;
      const { added, registered } = stored[i]!;
      if (registered) deps.log.info({ deviceId }, 'telemetry from a device without a birth yet; registered it');
      deps.stats.batches++;
      deps.stats.stored += added;
      deps.stats.duplicates += batch.records.length - added;
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

  return Object.defineProperties(handler, {
    queuedBytes: { get: () => queuedBytes },
    saturated: { get: () => saturated },
    onDrained: {
      value: (cb: () => void) => {
        if (saturated) drainedCallbacks.push(cb);
        else cb();
      },
    },
  }) as TelemetryIngest;

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

function toIngestBatch({ deviceId, batch }: Decoded): IngestBatch {
  return {
    deviceId,
    stream: batch.stream,
    records: batch.records,
    historical: batch.historical ?? false,
    backlog: batch.backlog,
    dropped: batch.dropped,
  };
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
