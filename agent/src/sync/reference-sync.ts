/**
 * @module sync/reference-sync
 * Sends reference values that arrived after their record was synced, from the reference
 * outbox, one batch at a time; deleted only on the server's ack (kind "reference"). Re-sent
 * after a reconnect or an ack timeout; the server's update is idempotent.
 */
import type { Logger } from 'pino';
import { encodeMessage, type Ack, type ReferenceUpdateBatch } from '@edgeloop/protocol';
import type { ReferenceStore } from '../store/reference-store.js';

export class ReferenceSync {
  private connected = false;
  private inFlight: { idFrom: number; idTo: number; sentAt: number } | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: ReferenceStore,
    private readonly stream: string,
    private readonly send: (payload: Buffer) => Promise<void>,
    private readonly opts: { batchSize: number; ackTimeoutMs: number; pollMs: number },
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => this.tick(), opts.pollMs);
    this.timer.unref();
  }

  setConnected(connected: boolean): void {
    this.connected = connected;
    this.inFlight = undefined;
    if (connected) this.tick();
  }

  handleAck(ack: Ack): void {
    if (ack.stream !== this.stream || !this.inFlight || ack.seqFrom !== this.inFlight.idFrom) return;
    if (ack.status === 'rejected') this.log.error({ reason: ack.reason }, 'fleet server rejected reference updates; dropping them');
    this.store.acknowledgeUpdates(ack.seqFrom, ack.seqTo);
    this.inFlight = undefined;
    this.tick();
  }

  private tick(): void {
    if (!this.connected) return;
    if (this.inFlight && Date.now() - this.inFlight.sentAt < this.opts.ackTimeoutMs) return;
    const updates = this.store.updatesAfter(0, this.opts.batchSize);
    if (updates.length === 0) {
      this.inFlight = undefined;
      return;
    }
    const batch: ReferenceUpdateBatch = { v: 1, stream: this.stream, updates };
    this.inFlight = { idFrom: updates[0]!.id, idTo: updates[updates.length - 1]!.id, sentAt: Date.now() };
    this.send(encodeMessage(batch)).catch((err: Error) => this.log.debug({ err: err.message }, 'reference update publish failed'));
  }

  close(): void {
    clearInterval(this.timer);
  }
}
