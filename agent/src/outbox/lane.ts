/**
 * @module outbox/lane
 * One outbox stream on the wire. A lane reads batches from its stream in position order while the
 * link is up and fewer batches than its window wait for their ack; each ack deletes exactly its
 * range from the stream's store and frees every batch inside it (an ack may be cumulative).
 *
 * A slow fleet server must not be answered with re-sends: every re-sent batch is work for a
 * server that is already behind. So the lane re-sends only what it has reason to think was lost:
 *
 * - The ack timeout is learnt from the acks (ack-timeout.ts) and runs from the later of the oldest
 *   batch's send and the last ack that freed the oldest batch: a server that keeps acknowledging,
 *   however late, is making progress and is left to it.
 * - When it runs out, the lane re-sends one batch, the newest on the wire (a probe), after a
 *   pause (backoff.ts), halves its window and waits twice as long for the next expiry.
 * - The fleet handles a device's batches in the order they arrive, so an ack for a batch means
 *   every batch sent before its first copy has been answered too. While recovering from a
 *   timeout, batches sent before an acknowledged one and still unanswered were lost: only those
 *   are sent again. Acks of the originals that were only late count like any other.
 * - The window grows back by one batch per window of acks. A smaller window means fewer, larger
 *   batches (records pile up while it is full), which is what a saturated server needs.
 *
 * Partial batches are self-clocked. A batch that carries every item there is and fewer than a
 * batch holds (the stream marks it `partial`) goes only while fewer than `partialBatchesInFlight`
 * partial batches (1 by default for telemetry) wait for their ack, and no sooner than
 * `coalesceMs` after the previous one. A fast fleet acks in milliseconds, so nothing changes:
 * a batch per flush interval. A slow one gets the next batch when it answers the last, holding
 * every item made meanwhile: a fleet's message rate falls to devices ÷ ack latency by itself and
 * each device has at most one partial batch queued at the server. Full batches (a backlog going
 * out) still fill the whole window; re-sends of batches thought lost go regardless.
 *
 * Re-sends come from the store, never from memory. After a reconnect the lane forgets what it
 * had sent (rewind) and reads again from the first unacknowledged item, a window at a time;
 * after a restart it starts that way. The fleet deduplicates on the positions.
 *
 * Acks that name positions this lane never sent are ignored: deleting on such an ack would lose
 * items the fleet never saw. Acks for ranges already acknowledged delete nothing and free nothing.
 * A lane that is stuck (no acks, a store that throws) only ever waits on its own timers.
 */
import type { Logger } from 'pino';
import type { Ack } from '@edgeloop/protocol';
import { AckTimeout } from './ack-timeout.js';
import { ByteRate } from './byte-rate.js';
import { backoffDelay } from './backoff.js';
import { InFlightBatches, type Flight } from './in-flight.js';
import { emptyLaneStats, type LaneOptions, type LaneStats } from './lane-options.js';
import type { OutboxBatch, OutboxStream } from './stream.js';

export type { LaneOptions, LaneStats } from './lane-options.js';

export class OutboxLane {
  private connected = false;
  private connectedSince = 0;
  /** Position of the last item read for sending since the last rewind. */
  private cursor = 0;
  /** Highest position sent by this process: an ack beyond it names nothing we sent. */
  private highestSent = 0;
  private readonly inFlight = new InFlightBatches();
  /** When the last partial batch went out (first send): the next waits `coalesceMs` after it. */
  private lastPartialAt = 0;
  private readonly ackTimeout: AckTimeout;
  /** The ack timer runs from no earlier than this: the oldest batch's last ack, a re-send, a pause's end. */
  private timerFrom = 0;
  /** Batches up to this position were on the wire at the last timeout; 0 = not recovering. */
  private recoverTo = 0;
  /** The window now: halved by a timeout, grown by acks, at most `opts.window`. */
  private cwnd: number;
  /** Ack timeouts or read errors in a row; any ack resets it. */
  private failures = 0;
  /** No sending before this time (epoch ms): the backoff pause. */
  private resumeAt = 0;
  /** Sends so far on this lane, first or again: the order batches went on the wire. */
  private sendCount = 0;
  /** Bumped by every rewind: a batch read before it is stale and is not sent. */
  private epoch = 0;
  private pumping = false;
  private pumpAgain = false;
  private pumpTimer: NodeJS.Timeout | undefined;
  private ackTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly byteRate: ByteRate;
  readonly stats: LaneStats = emptyLaneStats();

  constructor(
    readonly stream: OutboxStream,
    private readonly send: (payload: Buffer) => Promise<void>,
    private readonly opts: LaneOptions,
    private readonly log: Logger,
    private readonly random: () => number = Math.random,
  ) {
    this.ackTimeout = new AckTimeout({
      minMs: opts.ackTimeoutMs,
      maxMs: Math.max(opts.ackTimeoutMs, opts.ackTimeoutMaxMs),
    });
    this.cwnd = opts.window;
    this.byteRate = new ByteRate(opts.maxBytesPerSecond);
  }

  get kind(): OutboxStream['kind'] {
    return this.stream.kind;
  }

  /** Batches on the wire now. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Partial batches on the wire now. */
  get partialInFlightCount(): number {
    return this.inFlight.partialCount;
  }

  /** How long the lane waits for an ack now (learnt, backed off, clamped). */
  get ackTimeoutMs(): number {
    return this.ackTimeout.currentMs;
  }

  /** Batches the lane lets wait for their ack now (its window after timeouts shrank it). */
  get window(): number {
    return Math.max(1, Math.floor(this.cwnd));
  }

  setConnected(connected: boolean, since = Date.now()): void {
    this.connected = connected;
    if (connected) this.connectedSince = since;
    this.rewind();
    // A new connection is a new chance: no pause left over from the old one.
    this.failures = 0;
    this.resumeAt = 0;
    this.timerFrom = 0;
    this.lastPartialAt = 0;
    this.ackTimeout.resetBackoff();
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
    const now = Date.now();
    const freed = this.inFlight.free(ack.seqFrom, ack.seqTo);
    for (const flight of freed.sentOnce) this.ackTimeout.sample(now - flight.sentAt);
    if (freed.headFreed) this.timerFrom = now;
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
    if (freed.count > 0) {
      this.cwnd = Math.min(this.opts.window, this.cwnd + freed.count / this.cwnd);
      if (this.recoverTo > 0 && !this.inFlight.markLost(this.recoverTo, freed.answeredBefore)) this.recoverTo = 0;
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

  /**
   * How long until a partial batch may go: 0 = now, Infinity = when an ack frees a partial one.
   * Until then the lane reads only full batches.
   */
  private partialWait(now: number): number {
    if (this.inFlight.partialCount >= (this.opts.partialBatchesInFlight ?? Infinity)) return Infinity;
    // A monotonic clock: a wall clock set back (NTP after boot) must not hold partial batches back.
    return Math.min(this.opts.coalesceMs, Math.max(0, this.lastPartialAt + this.opts.coalesceMs - now));
  }

  /** Forget what was sent but not acknowledged; the next pump reads it again from the store. */
  private rewind(): void {
    this.inFlight.clear();
    this.cursor = 0;
    this.recoverTo = 0;
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
      while (this.connected) {
        const pause = this.resumeAt - Date.now();
        if (pause > 0) {
          this.pumpTimer ??= setTimeout(() => {
            this.pumpTimer = undefined;
            void this.pump();
          }, pause);
          break;
        }
        const lost = this.inFlight.firstLost();
        if (!lost && this.inFlight.size >= this.window) break;
        const partialWait = lost ? 0 : this.partialWait(performance.now());
        const fullOnly = partialWait > 0;
        const epoch = this.epoch;
        let batch: OutboxBatch | undefined;
        try {
          batch = await this.stream.next(lost ? lost[0] - 1 : this.cursor, {
            connectedSince: this.connectedSince,
            ...(lost ? { until: lost[1].to } : {}),
            ...(fullOnly ? { fullOnly } : {}),
          });
        } catch (err) {
          this.stats.readErrors++;
          this.pauseAfterFailure(`reading the ${this.kind} outbox failed: ${(err as Error).message}`);
          continue;
        }
        if (epoch !== this.epoch) continue;
        if (lost) {
          if (batch?.from !== lost[0] || batch.to !== lost[1].to) {
            // The store no longer holds that batch as it went out: send all again from the store.
            this.log.debug({ stream: this.kind, from: lost[0], to: lost[1].to }, 'batch changed; re-reading all');
            this.rewind();
            continue;
          }
        } else if (fullOnly && (!batch || batch.partial)) {
          // An ack of a partial batch pumps again; a spacing wait needs a timer. Held items need
          // no poll meanwhile: the ack's pump looks at them again.
          if (partialWait !== Infinity) this.schedule(partialWait);
          else {
            clearInterval(this.pollTimer);
            this.pollTimer = undefined;
          }
          break;
        } else if (!batch) {
          this.watchHeld();
          break;
        }
        await this.byteRate.take(batch.payload.length);
        if (epoch !== this.epoch) continue;
        this.transmit(batch, lost?.[1]);
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

  /** Puts a batch on the wire: a first send, a re-read after a rewind, or a batch thought lost. */
  private transmit(batch: OutboxBatch, again: Flight | undefined): void {
    const now = Date.now();
    const sendNo = ++this.sendCount;
    const partial = batch.partial === true;
    if (batch.from <= this.highestSent) {
      this.stats.resent++;
      this.stats.resentItems += batch.items ?? 1;
    } else {
      this.stats.sent++;
      this.stats.sentItems += batch.items ?? 1;
      if (partial) this.stats.partialSent++;
    }
    if (again) {
      again.resend = false;
      again.sends++;
      again.sentAt = now;
      again.lastSend = sendNo;
      this.timerFrom = now;
      this.rearmAckTimer();
    } else {
      this.cursor = batch.to;
      // A batch read again after a rewind may have gone out on the old connection: not measured.
      const sends = batch.from <= this.highestSent ? 2 : 1;
      this.inFlight.add(batch.from, {
        to: batch.to,
        firstSend: sendNo,
        lastSend: sendNo,
        sentAt: now,
        sends,
        resend: false,
        partial,
      });
      if (partial) this.lastPartialAt = performance.now();
      if (!this.ackTimer) this.rearmAckTimer();
    }
    this.highestSent = Math.max(this.highestSent, batch.to);
    this.stream.sent?.(batch);
    this.send(batch.payload).catch((err: Error) => {
      // The link dropped: setConnected(false) rewinds, the reconnect sends again.
      this.log.debug({ stream: this.kind, err: err.message }, 'outbox publish failed');
    });
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

  /**
   * One timer, due an ack timeout after the oldest batch on the wire went out, or after the last
   * sign of progress if that is later; none while nothing is on the wire.
   */
  private rearmAckTimer(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    const oldest = this.inFlight.oldest;
    if (!oldest) return;
    const timeoutMs = this.ackTimeout.currentMs;
    const due = Math.max(oldest.sentAt, this.timerFrom) + timeoutMs - Date.now();
    this.ackTimer = setTimeout(
      () => {
        this.ackTimer = undefined;
        this.timedOut(timeoutMs);
      },
      Math.max(0, due),
    );
    this.ackTimer.unref();
  }

  /** No ack in time: probe with the newest batch after a pause, with a smaller window and a longer timeout. */
  private timedOut(timeoutMs: number): void {
    if (!this.connected) return;
    const newest = this.inFlight.newest();
    if (!newest) return;
    this.stats.timeouts++;
    this.ackTimeout.expired();
    this.cwnd = Math.max(1, this.cwnd / 2);
    this.recoverTo = newest[0];
    newest[1].resend = true;
    this.inFlight.releasePartials();
    this.pauseAfterFailure(`no ack within ${timeoutMs} ms`);
  }

  /** Pause before sending again: longer with every failure in a row. */
  private pauseAfterFailure(why: string): void {
    if (!this.connected) return;
    this.failures++;
    const pauseMs = backoffDelay(this.failures, this.opts.backoff, this.random);
    this.log.warn(
      {
        stream: this.kind,
        inFlight: this.inFlight.size,
        attempt: this.failures,
        pauseMs,
        window: this.window,
        ackTimeoutMs: this.ackTimeout.currentMs,
      },
      `${why}; sending again after a pause`,
    );
    this.resumeAt = Date.now() + pauseMs;
    this.timerFrom = this.resumeAt;
    this.rearmAckTimer();
    clearTimeout(this.pumpTimer);
    this.pumpTimer = undefined;
    this.schedule(pauseMs);
  }
}
