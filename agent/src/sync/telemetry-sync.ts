/**
 * @module sync/telemetry-sync
 * Moves records from the durable buffer to the fleet server: batches carrying (stream, seq),
 * a bounded window of unacknowledged batches, deletion only on the server's "stored" ack.
 * After a reconnect or an ack timeout everything unacknowledged is sent again; the server
 * deduplicates on (device, stream, seq), so a record arrives exactly once in its store.
 */
import type { Logger } from 'pino';
import { encodeMessage, type Ack, type TelemetryBatch } from '@edgeloop/protocol';
import type { RecordBuffer } from '../store/record-buffer.js';

export interface SyncOptions {
  batchSize: number;
  window: number;
  flushIntervalMs: number;
  ackTimeoutMs: number;
}

export class TelemetrySync {
  private lastSentSeq = 0;
  private readonly inFlight = new Map<number, { seqTo: number; sentAt: number }>();
  private connected = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly watchdog: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private pumping = false;
  acked = 0;

  constructor(
    private readonly buffer: RecordBuffer,
    private readonly stream: string,
    private readonly send: (payload: Buffer) => Promise<void>,
    private readonly opts: SyncOptions,
    private readonly log: Logger,
  ) {
    this.unsubscribe = buffer.onAppend(() => this.schedule());
    this.watchdog = setInterval(() => this.checkAckTimeout(), Math.max(250, opts.ackTimeoutMs / 4));
    this.watchdog.unref();
  }

  setConnected(connected: boolean): void {
    this.connected = connected;
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
    this.inFlight.delete(ack.seqFrom);
    this.schedule(0);
  }

  /** Forget what was sent but not acknowledged; the next pump re-sends it from the buffer. */
  private rewind(): void {
    this.inFlight.clear();
    this.lastSentSeq = 0;
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
        const records = this.buffer.readAfter(this.lastSentSeq, this.opts.batchSize);
        if (records.length === 0) break;
        const seqFrom = records[0]!.seq;
        const seqTo = records[records.length - 1]!.seq;
        const batch: TelemetryBatch = { v: 1, stream: this.stream, records, backlog: Math.max(0, this.buffer.count() - records.length) };
        this.lastSentSeq = seqTo;
        this.inFlight.set(seqFrom, { seqTo, sentAt: Date.now() });
        this.send(encodeMessage(batch)).catch((err: Error) => {
          // The link dropped; setConnected(false) rewinds, reconnect re-sends.
          this.log.debug({ err: err.message }, 'telemetry publish failed');
        });
      }
    } finally {
      this.pumping = false;
    }
  }

  close(): void {
    this.connected = false;
    clearTimeout(this.timer);
    clearInterval(this.watchdog);
    this.unsubscribe();
  }
}
