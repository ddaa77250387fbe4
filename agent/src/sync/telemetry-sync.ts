/**
 * @module sync/telemetry-sync
 * Moves records from the durable buffer to the fleet server: batches carrying (stream, seq),
 * a bounded window of unacknowledged batches, deletion only on the server's "stored" ack.
 * After a reconnect or an ack timeout everything unacknowledged is sent again; the server
 * deduplicates on (device, stream, seq), so a record arrives exactly once in its store.
 *
 * Records made before the current connection came up are sent in batches flagged
 * `historical` (never mixed with live ones), and an optional byte rate caps the uplink.
 */
import type { Logger } from 'pino';
import { encodeMessage, encodeTelemetryBatch, type Ack, type TelemetryBatch } from '@edgeloop/protocol';
import type { RecordBuffer } from '../store/record-buffer.js';

const BACKLOG_RECOUNT_MS = 1000;

export interface SyncOptions {
  batchSize: number;
  window: number;
  flushIntervalMs: number;
  ackTimeoutMs: number;
  encoding: 'compact' | 'json';
  /** Uplink cap in payload bytes per second; 0 = unlimited. */
  maxBytesPerSecond: number;
}

export class TelemetrySync {
  private lastSentSeq = 0;
  private readonly inFlight = new Map<number, { seqTo: number; sentAt: number }>();
  private connected = false;
  private connectedSince = 0;
  /** Token bucket for the byte-rate cap. */
  private tokens = 0;
  private tokensAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly watchdog: NodeJS.Timeout;
  /** Polls while a record waits on a hold; an idle agent with nothing held is not woken. */
  private ticker: NodeJS.Timeout | undefined;
  private readonly unsubscribe: () => void;
  private pumping = false;
  private backlog = 0;
  private backlogCountedAt = 0;
  acked = 0;

  constructor(
    private readonly buffer: RecordBuffer,
    private readonly stream: string,
    private readonly send: (payload: Buffer) => Promise<void>,
    private readonly opts: SyncOptions,
    private readonly log: Logger,
    /** Running total of records dropped by the buffer cap, reported with every batch. */
    private readonly dropped: () => number = () => 0,
  ) {
    this.unsubscribe = buffer.onAppend(() => this.schedule());
    this.watchdog = setInterval(() => this.checkAckTimeout(), Math.max(250, opts.ackTimeoutMs / 4));
    this.watchdog.unref();
    // Records restored from the buffer may be on hold: poll until a pump finds out.
    this.pollHolds(true);
  }

  /** Held records (waiting for a reference value) become sendable without any event: poll. */
  private pollHolds(on: boolean): void {
    if (on && !this.ticker) {
      this.ticker = setInterval(() => this.schedule(), 250);
      this.ticker.unref();
    } else if (!on && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }

  setConnected(connected: boolean): void {
    this.connected = connected;
    if (connected) this.connectedSince = Date.now();
    this.rewind();
    if (connected) this.schedule(0);
  }

  handleAck(ack: Ack): void {
    if (ack.stream !== this.stream) {
      this.log.warn({ stream: ack.stream }, 'ignored ack for another buffer stream');
      return;
    }
    if (ack.status === 'stored') {
      this.acked += this.buffer.acknowledge(ack.seqFrom, ack.seqTo);
    } else {
      this.log.error({ seqFrom: ack.seqFrom, seqTo: ack.seqTo, reason: ack.reason }, 'fleet server rejected a batch; kept in dead_letters');
      this.buffer.deadLetter(ack.seqFrom, ack.seqTo, ack.reason ?? 'rejected');
    }
    // A range may cover several batches (a cumulative ack); forget every batch inside it.
    for (const [seqFrom, { seqTo }] of this.inFlight) {
      if (seqFrom >= ack.seqFrom && seqTo <= ack.seqTo) this.inFlight.delete(seqFrom);
    }
    this.schedule(0);
  }

  /** Forget what was sent but not acknowledged; the next pump re-sends it from the buffer. */
  private rewind(): void {
    this.inFlight.clear();
    this.lastSentSeq = 0;
    this.backlogCountedAt = 0;
  }

  /**
   * Records still to send after a batch ending at seqTo, shown in the fleet's device list. A
   * count walks every buffered record (counting per batch was a sixth of the agent's sync work
   * with a full buffer), so it is counted at most once a second and estimated in between.
   */
  private backlogAfter(seqTo: number, batchLength: number): number {
    const now = Date.now();
    if (now - this.backlogCountedAt >= BACKLOG_RECOUNT_MS) {
      this.backlogCountedAt = now;
      this.backlog = this.buffer.countAfter(seqTo);
    } else {
      this.backlog = Math.max(0, this.backlog - batchLength);
    }
    return this.backlog;
  }

  private checkAckTimeout(): void {
    const now = Date.now();
    for (const { sentAt } of this.inFlight.values()) {
      if (now - sentAt > this.opts.ackTimeoutMs) {
        this.log.warn({ inFlight: this.inFlight.size }, 'no ack in time; re-sending unacknowledged records');
        this.rewind();
        this.schedule(0);
        return;
      }
    }
  }

  private schedule(delay = this.opts.flushIntervalMs): void {
    if (!this.connected) return;
    if (this.timer && delay > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.pump();
    }, delay);
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.connected && this.inFlight.size < this.opts.window) {
        let records = this.buffer.readAfter(this.lastSentSeq, this.opts.batchSize);
        if (records.length === 0) {
          // Nothing sendable: either nothing is left, or the next record is on hold.
          this.pollHolds(this.buffer.countAfter(this.lastSentSeq) > 0);
          break;
        }
        const historical = records[0]!.ts < this.connectedSince;
        const boundary = records.findIndex((r) => (r.ts < this.connectedSince) !== historical);
        if (boundary > 0) records = records.slice(0, boundary);
        const seqFrom = records[0]!.seq;
        const seqTo = records[records.length - 1]!.seq;
        const dropped = this.dropped();
        const batch: TelemetryBatch = {
          v: 1, stream: this.stream, records, backlog: this.backlogAfter(seqTo, records.length),
          ...(historical ? { historical: true } : {}), ...(dropped ? { dropped } : {}),
        };
        const payload = this.opts.encoding === 'compact' ? encodeTelemetryBatch(batch) : encodeMessage(batch);
        await this.throttle(payload.length);
        if (!this.connected) break;
        this.lastSentSeq = seqTo;
        this.buffer.markSent(seqFrom, seqTo);
        this.inFlight.set(seqFrom, { seqTo, sentAt: Date.now() });
        this.send(payload).catch((err: Error) => {
          // The link dropped; setConnected(false) rewinds, reconnect re-sends.
          this.log.debug({ err: err.message }, 'telemetry publish failed');
        });
        // Let acks and other I/O in between batches, so sending and acknowledging overlap.
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Waits until the byte-rate cap allows `bytes` more; a single oversized batch goes alone. */
  private async throttle(bytes: number): Promise<void> {
    const rate = this.opts.maxBytesPerSecond;
    if (rate <= 0) return;
    const now = Date.now();
    this.tokens = Math.min(rate, this.tokens + ((now - this.tokensAt) / 1000) * rate);
    this.tokensAt = now;
    if (this.tokens < Math.min(bytes, rate)) {
      await new Promise((r) => setTimeout(r, ((Math.min(bytes, rate) - this.tokens) / rate) * 1000));
      this.tokens = Math.min(bytes, rate);
      this.tokensAt = Date.now();
    }
    this.tokens -= bytes;
  }

  close(): void {
    this.connected = false;
    clearTimeout(this.timer);
    clearInterval(this.watchdog);
    clearInterval(this.ticker);
    this.unsubscribe();
  }
}
