/**
 * @module outbox/reference-stream
 * Reference values that reached their record after it was sent (store/reference-store.ts) as an
 * outbox stream on `…/reference`: batches of (id, seq, reference), acked with kind "reference".
 * The server's update is idempotent, so a re-sent batch is harmless. A refused batch is dropped:
 * the records it names are unknown to the fleet, and no re-send can change that.
 */
import type { Logger } from 'pino';
import { encodeMessage, type ReferenceUpdateBatch } from '@edgeloop/protocol';
import type { ReferenceStore } from '../store/reference-store.js';
import type { OutboxBatch, OutboxStream, SendContext } from './stream.js';

export class ReferenceStream implements OutboxStream {
  readonly kind = 'reference' as const;

  constructor(
    private readonly store: ReferenceStore,
    private readonly streamId: string,
    private readonly batchSize: number,
    private readonly log: Logger,
  ) {}

  next(after: number, { until, fullOnly }: SendContext): OutboxBatch | undefined {
    let updates = this.store.updatesAfter(after, this.batchSize);
    if (until !== undefined) updates = updates.filter((u) => u.id <= until);
    if (updates.length === 0) return undefined;
    const partial = updates.length < this.batchSize;
    if (fullOnly && partial) return undefined;
    const batch: ReferenceUpdateBatch = { v: 1, stream: this.streamId, updates };
    return {
      from: updates[0]!.id,
      to: updates[updates.length - 1]!.id,
      items: updates.length,
      ...(partial ? { partial } : {}),
      payload: encodeMessage(batch),
    };
  }

  acknowledge(from: number, to: number): number {
    return this.store.acknowledgeUpdates(from, to);
  }

  reject(from: number, to: number, reason: string): number {
    const n = this.store.acknowledgeUpdates(from, to);
    this.log.error({ from, to, updates: n, reason }, 'fleet server refused reference updates; dropped them');
    return n;
  }

  pending(): number {
    return this.store.pendingUpdates();
  }
}
