/**
 * @module outbox/lane
 * One outbox stream on the wire. A lane reads batches from its stream in position order while the
 * link is up and fewer than `window` batches wait for their ack; each ack deletes exactly its
 * range from the stream's store and frees every batch inside it (an ack may be cumulative).
 *
 * Re-sends come from the store, never from memory: after a reconnect or an ack timeout the lane
 * forgets what it had sent (rewind) and reads again from the first unacknowledged item; after a
 * restart it starts that way. The fleet deduplicates on the positions, so an item is stored once.
 * After an ack timeout the lane pauses before it sends again (backoff.ts), longer after each
 * timeout in a row, until an ack shows the fleet is back; a reconnect sends again at once.
 *
 * Acks that name positions this lane never sent are ignored: deleting on such an ack would lose
 * items the fleet never saw. Acks for ranges already acknowledged delete nothing and free nothing.
 * A lane that is stuck (no acks, a store that throws) only ever waits on its own timers.
 */
import type { Logger } from 'pino';
import type { Ack } from '@edgeloop/protocol';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import type { OutboxBatch, OutboxStream } from './stream.js';

export interface LaneOptions {
  /** Batches sent and not yet acknowledged, at most. */
  window: number;
  ackTimeoutMs: number;
  /** Wait after a wake-up (new items stored) before reading, so items stored together leave together. */
  coalesceMs: number;
  /** Payload bytes per second on this stream; 0 = unlimited. A single larger batch goes alone. */
  maxBytesPerSecond: number;
  /** Pause before sending again after ack timeouts. */
  backoff: BackoffOptions;
  /** How often to look again while the stream says items are held. */
  waitPollMs: number;
}

export interface LaneStats {
  /** Batches sent for the first time. */
  sent: number;
  /** Batches sent again (after a reconnect, a timeout or a restart of this lane's reading). */
  resent: number;
  /** Items the fleet acknowledged as stored (and the store deleted). */
  acked: number;
  /** Items the fleet refused. */
  rejected: number;
  /** Ack timeouts (each followed by a pause and a re-send). */
  timeouts: number;
  /** Reads from the stream's store that threw (each followed by a pause). */
  readErrors: number;
  /** Acks naming positions this lane never sent. */
  ignoredAcks: number;
}

export class OutboxLane {
  private connected = false;
  private connectedSince = 0;
  /** Position of the last item read for sending since the last rewind. */
  private cursor = 0;
  /** Highest position sent by this process: an ack beyond it names nothing we sent. */
  private highestSent = 0;
  /** Batches on the wire by first position, in send order (Map keeps insertion order). */
  private readonly inFlight = new Map<number, { to: number; sentAt: number }>();
  /** Ack timeouts in a row; any ack resets it. */
  private failures = 0;
  /** No sending before this time (epoch ms): the backoff pause. */
  private resumeAt = 0;
  /** Bumped by every rewind: a batch read before it is stale and is not sent. */
  private epoch = 0;
  private pumping = false;
  private pumpAgain = false;
  private pumpTimer: NodeJS.Timeout | undefined;
  private ackTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  /** Token bucket for the byte-rate cap; it starts full, so one second's worth may go at once. */
  private tokens = Number.POSITIVE_INFINITY;
  private tokensAt = 0;
  readonly stats: LaneStats = { sent: 0, resent: 0, acked: 0, rejected: 0, timeouts: 0, readErrors: 0, ignoredAcks: 0 };

  constructor(
    readonly stream: OutboxStream,
    private readonly send: (payload: Buffer) => Promise<void>,
    private readonly opts: LaneOptions,
    private readonly log: Logger,
    private readonly random: () => number = Math.random,
  ) {}

  get kind(): OutboxStream['kind'] {
    return this.stream.kind;
  }

  /** Batches on the wire now. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  setConnected(connected: boolean, since = Date.now()): void {
    this.connected = connected;
    if (connected) this.connectedSince = since;
    this.rewind();
    // A new connection is a new chance: no pause left over from the old one.
    this.failures = 0;
    this.resumeAt = 0;
    if (connected) this.schedule(0);
    else this.stopTimers();
  }

  /** New items were stored. */
  wake(): void {
    this.schedule(this.opts.coalesceMs);
  }

  handleAck(ack: Ack): void {
    if (ack.seqFrom > ack.seqTo || ack.seqTo > this.highestSent) {
      this.stats.ignoredAcks++;
      this.log.warn(
        { stream: this.kind, seqFrom: ack.seqFrom, seqTo: ack.seqTo, highestSent: this.highestSent },
        'ignored an ack for items this device did not send',
      );
      return;
    }
    for (const [from, { to }] of this.inFlight) {
      if (from >= ack.seqFrom && to <= ack.seqTo) this.inFlight.delete(from);
    }
    if (ack.status === 'stored') {
      this.stats.acked += this.stream.acknowledge(ack.seqFrom, ack.seqTo);
    } else {
      const n = this.stream.reject(ack.seqFrom, ack.seqTo, ack.reason ?? 'rejected');
      this.stats.rejected += n;
      this.log.error(
        { stream: this.kind, seqFrom: ack.seqFrom, seqTo: ack.seqTo, items: n, reason: ack.reason },
        'the fleet refused items; they do not block the stream',
      );
    }
    // The fleet answers: whatever pause a timeout started is over.
    this.failures = 0;
    this.resumeAt = 0;
    this.rearmAckTimer();
    this.schedule(0);
  }

  close(): void {
    this.connected = false;
    this.stopTimers();
  }

  /** Forget what was sent but not acknowledged; the next pump reads it again from the store. */
  private rewind(): void {
    this.inFlight.clear();
    this.cursor = 0;
    this.epoch++;
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    this.stream.rewound?.();
  }

  private stopTimers(): void {
    clearTimeout(this.pumpTimer);
    clearTimeout(this.ackTimer);
    clearInterval(this.pollTimer);
    this.pumpTimer = this.ackTimer = this.pollTimer = undefined;
  }

  private schedule(delay: number): void {
    if (!this.connected) return;
    if (this.pumpTimer) {
      // One pump is coming; only an immediate one (an ack freed the window) overtakes it.
      if (delay > 0) return;
      clearTimeout(this.pumpTimer);
    }
    this.pumpTimer = setTimeout(() => {
      this.pumpTimer = undefined;
      void this.pump();
    }, delay);
  }

  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      while (this.connected && this.inFlight.size < this.opts.window) {
        const pause = this.resumeAt - Date.now();
        if (pause > 0) {
          this.pumpTimer ??= setTimeout(() => {
            this.pumpTimer = undefined;
            void this.pump();
          }, pause);
          break;
        }
        const epoch = this.epoch;
        let batch: OutboxBatch | undefined;
        try {
          batch = await this.stream.next(this.cursor, { connectedSince: this.connectedSince });
        } catch (err) {
          this.stats.readErrors++;
          this.fail(`reading the ${this.kind} outbox failed: ${(err as Error).message}`);
          continue;
        }
        if (epoch !== this.epoch) continue;
        if (!batch) {
          this.watchHeld();
          break;
        }
        await this.throttle(batch.payload.length);
        if (epoch !== this.epoch) continue;
        this.cursor = batch.to;
        if (batch.from <= this.highestSent) this.stats.resent++;
        else this.stats.sent++;
        this.highestSent = Math.max(this.highestSent, batch.to);
        this.stream.sent?.(batch);
        this.inFlight.set(batch.from, { to: batch.to, sentAt: Date.now() });
        if (!this.ackTimer) this.rearmAckTimer();
        this.send(batch.payload).catch((err: Error) => {
          // The link dropped: setConnected(false) rewinds, the reconnect sends again.
          this.log.debug({ stream: this.kind, err: err.message }, 'outbox publish failed');
        });
        // Let acks and other I/O in between batches, so sending and acknowledging overlap.
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      this.pumping = false;
      if (this.pumpAgain) {
        this.pumpAgain = false;
        this.schedule(0);
      }
    }
  }

  /** Held items become sendable with no event (their hold runs out): poll only while there are some. */
  private watchHeld(): void {
    const held = this.stream.waiting?.(this.cursor) ?? false;
    if (held && !this.pollTimer) {
      this.pollTimer = setInterval(() => this.schedule(0), this.opts.waitPollMs);
      this.pollTimer.unref();
    } else if (!held && this.pollTimer) {
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
    }
  }

  /** One timer, due when the oldest batch on the wire runs out of time; none while nothing is. */
  private rearmAckTimer(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    const oldest = this.inFlight.values().next();
    if (oldest.done) return;
    const due = oldest.value.sentAt + this.opts.ackTimeoutMs - Date.now();
    this.ackTimer = setTimeout(
      () => {
        this.ackTimer = undefined;
        this.stats.timeouts++;
        this.fail(`no ack within ${this.opts.ackTimeoutMs} ms`);
      },
      Math.max(0, due),
    );
    this.ackTimer.unref();
  }

  /** Rewind, then pause before sending again: longer with every failure in a row. */
  private fail(why: string): void {
    if (!this.connected) return;
    this.failures++;
    const pauseMs = backoffDelay(this.failures, this.opts.backoff, this.random);
    this.log.warn(
      { stream: this.kind, inFlight: this.inFlight.size, attempt: this.failures, pauseMs },
      `${why}; re-sending what is unacknowledged after a pause`,
    );
    this.rewind();
    this.resumeAt = Date.now() + pauseMs;
    clearTimeout(this.pumpTimer);
    this.pumpTimer = undefined;
    this.schedule(pauseMs);
  }

  /** Waits until the byte-rate cap allows `bytes` more; a single oversized batch goes alone. */
  private async throttle(bytes: number): Promise<void> {
    const rate = this.opts.maxBytesPerSecond;
    if (rate <= 0) return;
    const need = Math.min(bytes, rate);
    // Timers may fire a little early and clocks tick in whole milliseconds, so the wait is
    // rounded up and the bucket refilled from the clock again until it really holds enough.
    for (;;) {
      const now = performance.now();
      this.tokens = Math.min(rate, this.tokens + ((now - this.tokensAt) / 1000) * rate);
      this.tokensAt = now;
      if (this.tokens >= need) break;
      await new Promise((r) => setTimeout(r, Math.ceil(((need - this.tokens) / rate) * 1000)));
    }
    this.tokens -= bytes;
  }
}
