/**
 * @module monitoring/monitoring-streams
 * Local alerts and edge summaries as outbox streams: `alert` (one alert per message, acked with
 * kind "alert" naming its seq) and `summary` (batches of summaries, acked with kind "summary"
 * naming the range of seqs). seq is the row's queue position, so an ack deletes exactly what it
 * names, and a re-send after a reconnect repeats the same seqs for the fleet to deduplicate.
 */
import type { Logger } from 'pino';
import { encodeMessage, type EdgeSummary, type LocalAlert, type SummaryBatch } from '@edgeloop/protocol';
import type { OutboxBatch, OutboxStream, SendContext } from '../outbox/stream.js';
import type { MonitoringQueue } from './monitoring-queue.js';

export type QueuedAlert = Omit<LocalAlert, 'v' | 'stream' | 'seq'>;
export type QueuedSummary = Omit<EdgeSummary, 'seq'>;

/** Summaries per message at most (the schema allows 500; each carries a few KB of bins). */
const SUMMARIES_PER_BATCH = 50;

abstract class QueueStream<T> implements OutboxStream {
  abstract readonly kind: 'alert' | 'summary';

  constructor(
    protected readonly queue: MonitoringQueue<T>,
    protected readonly streamId: string,
    private readonly log: Logger,
  ) {}

  abstract next(after: number, ctx: SendContext): OutboxBatch | undefined;

  acknowledge(from: number, to: number): number {
    return this.queue.remove(from, to);
  }

  reject(from: number, to: number, reason: string): number {
    this.log.error({ kind: this.kind, from, to, reason }, 'the fleet refused monitoring messages; dropped them');
    return this.queue.remove(from, to);
  }

  pending(): number {
    return this.queue.count();
  }
}

export class AlertStream extends QueueStream<QueuedAlert> {
  readonly kind = 'alert' as const;

  next(after: number): OutboxBatch | undefined {
    const [queued] = this.queue.after(after, 1);
    if (!queued) return undefined;
    const alert: LocalAlert = { v: 1, stream: this.streamId, seq: queued.id, ...queued.body };
    return { from: queued.id, to: queued.id, payload: encodeMessage(alert) };
  }
}

export class SummaryStream extends QueueStream<QueuedSummary> {
  readonly kind = 'summary' as const;

  next(after: number, ctx: SendContext): OutboxBatch | undefined {
    let rows = this.queue.after(after, SUMMARIES_PER_BATCH);
    if (ctx.until !== undefined) rows = rows.filter((r) => r.id <= ctx.until!);
    if (rows.length === 0) return undefined;
    const batch: SummaryBatch = {
      v: 1,
      stream: this.streamId,
      summaries: rows.map((r) => ({ seq: r.id, ...r.body })),
    };
    return { from: rows[0]!.id, to: rows.at(-1)!.id, items: rows.length, payload: encodeMessage(batch) };
  }
}
