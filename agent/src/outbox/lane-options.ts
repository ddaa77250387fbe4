/**
 * @module outbox/lane-options
 * What an outbox lane (lane.ts) is configured with and what it counts (read by /metrics).
 */
import type { BackoffOptions } from './backoff.js';

export interface LaneOptions {
  /** Batches sent and not yet acknowledged, at most. */
  window: number;
  /** The shortest ack timeout, and the one used before any ack latency was measured. */
  ackTimeoutMs: number;
  /** The longest ack timeout, however slow the acks and however many expired in a row. */
  ackTimeoutMaxMs: number;
  /** Wait after a wake-up (new items stored) before reading, so items stored together leave together. */
  coalesceMs: number;
  /** Payload bytes per second on this stream; 0 = unlimited. A single larger batch goes alone. */
  maxBytesPerSecond: number;
  /** Pause before sending again after ack timeouts. */
  backoff: BackoffOptions;
  /** How often to look again while the stream says items are held. */
  waitPollMs: number;
  /** Partial batches (OutboxBatch.partial) waiting for their ack, at most; absent = the window. */
  partialBatchesInFlight?: number;
}

export interface LaneStats {
  /** Batches sent for the first time. */
  sent: number;
  /** Items in the batches sent for the first time (sentItems / sent: items per batch). */
  sentItems: number;
  /** Batches sent for the first time that were partial (carried every item there was). */
  partialSent: number;
  /** Batches sent again (after a reconnect, a timeout or a restart of this lane's reading). */
  resent: number;
  /** Items in the batches sent again. */
  resentItems: number;
  /** Items the fleet acknowledged as stored (and the store deleted). */
  acked: number;
  /** Items the fleet refused. */
  rejected: number;
  /** Ack timeouts (each followed by a pause and a probe). */
  timeouts: number;
  /** Reads from the stream's store that threw (each followed by a pause). */
  readErrors: number;
  /** Acks naming positions this lane never sent. */
  ignoredAcks: number;
}

export function emptyLaneStats(): LaneStats {
  return {
    sent: 0,
    sentItems: 0,
    partialSent: 0,
    resent: 0,
    resentItems: 0,
    acked: 0,
    rejected: 0,
    timeouts: 0,
    readErrors: 0,
    ignoredAcks: 0,
  };
}
