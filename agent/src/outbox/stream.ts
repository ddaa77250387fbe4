/**
 * @module outbox/stream
 * What the outbox needs from each kind of data it sends (telemetry records, late reference
 * values, kept samples, update reports): how to read the next batch from its durable store, how
 * to encode it, and what an ack deletes. Everything about the wire — window, ack timeouts,
 * backoff, re-sends, ack routing — is the outbox's (lane.ts), so no stream implements it again.
 *
 * Positions are the store's own row ids: increasing, never reused, so an ack's range names the
 * same items for as long as they exist, across reconnects and restarts.
 */
import type { AckKind } from '@edgeloop/protocol';

export interface OutboxBatch {
  /** First and last position the payload carries: the range its ack names. */
  from: number;
  to: number;
  payload: Buffer;
  /** Items the payload carries (counted in the re-send stats); 1 when absent. */
  items?: number;
  /**
   * The batch carries every item that could go now, and fewer than a batch holds: a lane lets
   * only a few of these wait for their ack (LaneOptions.partialBatchesInFlight), so a slow fleet
   * gets fewer, larger batches. Streams that send one item per message never set it.
   */
  partial?: boolean;
}

export interface SendContext {
  /** When the current connection came up (epoch ms): items made before it are historical. */
  connectedSince: number;
  /**
   * Set when one batch already sent is read again (a lane re-sends what it thinks was lost): no
   * item above this position, so the copy covers exactly what the first one did.
   */
  until?: number;
  /**
   * The lane may not send a partial batch now: a stream may answer undefined instead of reading
   * and encoding one (a partial batch it returns anyway is not sent).
   */
  fullOnly?: boolean;
}

export interface OutboxStream {
  /** The ack kind routed here; also the device channel the payloads go out on. */
  readonly kind: AckKind;
  /**
   * The next batch: items with positions above `after`, in position order, none skipped. Nothing
   * (undefined) when none can go now. May read files (samples), hence the promise.
   */
  next(after: number, ctx: SendContext): OutboxBatch | undefined | Promise<OutboxBatch | undefined>;
  /** Items above `after` exist but cannot go yet (held for a reference value): the lane polls. */
  waiting?(after: number): boolean;
  /** Told as a batch goes on the wire (before its ack can arrive). */
  sent?(batch: OutboxBatch): void;
  /** Everything unacknowledged will be read again from `after` 0 (reconnect, ack timeout). */
  rewound?(): void;
  /** The fleet stored these positions: delete them. Returns how many items went. */
  acknowledge(from: number, to: number): number;
  /** The fleet refused these positions for good: set them aside or drop them. Returns how many. */
  reject(from: number, to: number, reason: string): number;
  /** Items stored and not yet acknowledged. */
  pending(): number;
}
