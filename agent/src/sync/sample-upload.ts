/**
 * @module sync/sample-upload
 * Uploads kept samples one at a time (they can be large) on `…/sample`, deleting each local copy
 * when the fleet acks it. Runs whenever connected with `upload: with-sync`, or while the fleet
 * asks for samples (desired state `sampleUploadUntil`) with `upload: on-request`.
 */
import type { Logger } from 'pino';
import { encodeSample, type Ack } from '@edgeloop/protocol';
import type { SampleStore } from '../sampling/sample-store.js';

export class SampleUpload {
  private connected = false;
  private requestedUntil = 0;
  private inFlight: { id: number; sentAt: number } | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: SampleStore,
    private readonly stream: string,
    private readonly mode: 'with-sync' | 'on-request',
    private readonly send: (payload: Buffer) => Promise<void>,
    private readonly opts: { ackTimeoutMs: number; pollMs: number },
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => void this.tick(), opts.pollMs);
    this.timer.unref();
  }

  setConnected(connected: boolean): void {
    this.connected = connected;
    this.inFlight = undefined;
    if (connected) void this.tick();
  }

  /** From the desired state: the fleet wants samples until this time. */
  requestUntil(until: number | undefined): void {
    this.requestedUntil = until ?? 0;
    void this.tick();
  }

  handleAck(ack: Ack): void {
    if (ack.stream !== this.stream || ack.seqFrom !== this.inFlight?.id) return;
    if (ack.status === 'rejected') this.log.error({ id: ack.seqFrom, reason: ack.reason }, 'fleet server rejected a sample; deleting it');
    this.store.remove(ack.seqFrom);
    this.inFlight = undefined;
    void this.tick();
  }

  private async tick(): Promise<void> {
    if (!this.connected) return;
    if (this.mode === 'on-request' && Date.now() >= this.requestedUntil) return;
    if (this.inFlight && Date.now() - this.inFlight.sentAt < this.opts.ackTimeoutMs) return;
    const sample = this.store.next(0);
    if (!sample) return;
    this.inFlight = { id: sample.id, sentAt: Date.now() };
    let data: Buffer;
    try {
      data = await this.store.read(sample);
    } catch (err) {
      this.log.error({ id: sample.id, err: (err as Error).message }, 'sample file unreadable; dropping it');
      this.store.remove(sample.id);
      this.inFlight = undefined;
      return;
    }
    const payload = encodeSample({
      v: 1, stream: this.stream, id: sample.id, seq: sample.seq, model: sample.model, version: sample.version, ts: sample.ts,
      reason: sample.reason, prediction: sample.prediction, reference: sample.reference, contentType: sample.contentType, data: new Uint8Array(data),
    });
    this.send(payload).catch((err: Error) => this.log.debug({ err: err.message }, 'sample publish failed'));
  }

  close(): void {
    clearInterval(this.timer);
  }
}
