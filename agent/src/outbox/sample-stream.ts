/**
 * @module outbox/sample-stream
 * Kept samples (sampling/sample-store.ts) as an outbox stream on `…/sample`, one per message
 * (they can be large), each local copy deleted when the fleet acks it (kind "sample"). Sends
 * whenever connected with `upload: with-sync`, or while the fleet asks for samples (desired state
 * `sampleUploadUntil`) with `upload: on-request`. A sample whose file is gone or unreadable is
 * dropped, so it cannot block the ones behind it.
 */
import type { Logger } from 'pino';
import { encodeSample } from '@edgeloop/protocol';
import type { SampleStore } from '../sampling/sample-store.js';
import type { OutboxBatch, OutboxStream } from './stream.js';

export class SampleStream implements OutboxStream {
  readonly kind = 'sample' as const;
  private requestedUntil = 0;

  constructor(
    private readonly store: SampleStore,
    private readonly streamId: string,
    private readonly mode: 'with-sync' | 'on-request',
    private readonly log: Logger,
  ) {}

  /** From the desired state: the fleet wants samples until this time (epoch ms). */
  requestUntil(until: number | undefined): void {
    this.requestedUntil = until ?? 0;
  }

  async next(after: number): Promise<OutboxBatch | undefined> {
    if (this.mode === 'on-request' && Date.now() >= this.requestedUntil) return undefined;
    for (let sample = this.store.next(after); sample; sample = this.store.next(sample.id)) {
      let data: Buffer;
      try {
        data = await this.store.read(sample);
      } catch (err) {
        this.log.error({ id: sample.id, err: (err as Error).message }, 'sample file unreadable; dropping it');
        this.store.remove(sample.id);
        continue;
      }
      const payload = encodeSample({
        v: 1,
        stream: this.streamId,
        id: sample.id,
        seq: sample.seq,
        model: sample.model,
        version: sample.version,
        ts: sample.ts,
        reason: sample.reason,
        prediction: sample.prediction,
        reference: sample.reference,
        contentType: sample.contentType,
        data: new Uint8Array(data),
      });
      return { from: sample.id, to: sample.id, payload };
    }
    return undefined;
  }

  acknowledge(from: number, to: number): number {
    return this.store.remove(from, to);
  }

  reject(from: number, to: number, reason: string): number {
    const n = this.store.remove(from, to);
    this.log.error({ from, to, reason }, 'fleet server refused a sample; deleted it');
    return n;
  }

  pending(): number {
    return this.store.count().samples;
  }
}
