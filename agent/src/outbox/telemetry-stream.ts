/**
 * @module outbox/telemetry-stream
 * Prediction records from the record buffer as an outbox stream, carrying (stream, seq).
 *
 * Records made before the current connection came up leave in batches flagged `historical`,
 * never mixed with live ones. A record on hold for its reference value stops the batch before it
 * (seqs leave in order) and makes the lane poll until the hold ends. Every batch carries the
 * backlog behind it and the running total of records the buffer cap dropped. A refused batch is
 * moved to dead_letters, so one bad record cannot block the stream.
 */
import { encodeMessage, encodeTelemetryBatch, type TelemetryBatch } from '@edgeloop/protocol';
import type { RecordBuffer } from '../store/record-buffer.js';
import type { OutboxBatch, OutboxStream, SendContext } from './stream.js';

const BACKLOG_RECOUNT_MS = 1000;

export interface TelemetryStreamOptions {
  batchSize: number;
  /** compact = columnar + deflate; json for debugging with mosquitto_sub. */
  encoding: 'compact' | 'json';
  /**
   * Records above this seq are not sent (bandwidth mode: the monitoring sends summaries of them
   * instead and they stay buffered); absent or Infinity: all are.
   */
  sendThrough?: () => number;
}

export class TelemetryStream implements OutboxStream {
  readonly kind = 'telemetry' as const;
  private backlog = 0;
  private backlogCountedAt = 0;

  constructor(
    private readonly buffer: RecordBuffer,
    private readonly streamId: string,
    private readonly opts: TelemetryStreamOptions,
    /** Running total of records dropped by the buffer cap. */
    private readonly dropped: () => number = () => 0,
  ) {}

  next(after: number, ctx: SendContext): OutboxBatch | undefined {
    const { connectedSince, fullOnly } = ctx;
    let { until } = ctx;
    const { batchSize } = this.opts;
    const through = this.opts.sendThrough?.() ?? Infinity;
    if (after >= through) return undefined;
    if (through < Infinity) until = Math.min(until ?? Infinity, through);
    // Asked for a full batch only (the lane waits for a partial one's ack, which happens a lot
    // under a slow server): skip reading rows that would not go.
    if (fullOnly && !this.buffer.hasAfter(after, batchSize)) return undefined;
    let records = this.buffer.readAfter(after, batchSize);
    if (until !== undefined) records = records.filter((r) => r.seq <= until);
    if (records.length === 0) return undefined;
    const historical = records[0]!.ts < connectedSince;
    const boundary = records.findIndex((r) => r.ts < connectedSince !== historical);
    if (boundary > 0) records = records.slice(0, boundary);
    // A historical batch cut at the first live record has more behind it: not the tail.
    const partial = records.length < batchSize && boundary <= 0;
    if (fullOnly && partial) return undefined;
    const from = records[0]!.seq;
    const to = records[records.length - 1]!.seq;
    const dropped = this.dropped();
    const batch: TelemetryBatch = {
      v: 1,
      stream: this.streamId,
      records,
      backlog: this.backlogAfter(to, records.length),
      ...(historical ? { historical: true } : {}),
      ...(dropped ? { dropped } : {}),
    };
    return {
      from,
      to,
      items: records.length,
      ...(partial ? { partial } : {}),
      payload: this.opts.encoding === 'compact' ? encodeTelemetryBatch(batch) : encodeMessage(batch),
    };
  }

  waiting(after: number): boolean {
    if (after >= (this.opts.sendThrough?.() ?? Infinity)) return false;
    return this.buffer.countAfter(after) > 0;
  }

  sent(batch: OutboxBatch): void {
    this.buffer.markSent(batch.from, batch.to);
  }

  rewound(): void {
    this.backlogCountedAt = 0;
  }

  acknowledge(from: number, to: number): number {
    return this.buffer.acknowledge(from, to);
  }

  reject(from: number, to: number, reason: string): number {
    return this.buffer.deadLetter(from, to, reason);
  }

  pending(): number {
    return this.buffer.count();
  }

  /**
   * Records still to send after a batch ending at `to`, shown in the fleet's device list. A count
   * walks every buffered record (counting per batch was a sixth of the agent's sync work with a
   * full buffer), so it is counted at most once a second and estimated in between.
   */
  private backlogAfter(to: number, batchLength: number): number {
    const now = Date.now();
    if (now - this.backlogCountedAt >= BACKLOG_RECOUNT_MS) {
      this.backlogCountedAt = now;
      this.backlog = this.buffer.countAfter(to);
    } else {
      this.backlog = Math.max(0, this.backlog - batchLength);
    }
    return this.backlog;
  }
}
