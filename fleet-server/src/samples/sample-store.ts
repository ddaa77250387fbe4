/**
 * @module samples/sample-store
 * Retraining samples from devices: metadata in the fleet store, bytes content-addressed on disk
 * (the artifact store's layout), so a re-sent sample costs nothing and a file's name is its hash.
 * Also what the fleet asked of a device's samples: upload until, and a capture window.
 */
import { sampleCaptureSchema, type Sample, type SampleCapture, type SampleSummary } from '@edgeloop/protocol';
import type { BlobStore } from '../store/blobs/blob-store.js';
import type { FleetStore } from '../store/fleet-store.js';

export type SampleRow = SampleSummary;

export class SampleStore {
  constructor(
    private readonly store: FleetStore,
    private readonly files: BlobStore,
  ) {}

  /** Returns false when this (device, stream, seq) was stored before (a re-send). */
  async insert(deviceId: string, sample: Sample, now = Date.now()): Promise<boolean> {
    const { sha256, size } = await this.files.put(sample.data);
    return this.store.samples.insert({
      deviceId,
      stream: sample.stream,
      seq: sample.seq,
      model: sample.model,
      version: sample.version,
      ts: sample.ts,
      reason: sample.reason,
      prediction: sample.prediction,
      reference: sample.reference,
      contentType: sample.contentType,
      sha256,
      bytes: size,
      receivedAt: now,
    });
  }

  list(q: { device?: string; model?: string; limit?: number } = {}): Promise<SampleRow[]> {
    return this.store.samples.list(q);
  }

  get(id: number): Promise<SampleRow | undefined> {
    return this.store.samples.get(id);
  }

  setUploadUntil(deviceId: string, until: number): Promise<void> {
    return this.store.devices.setSampleUploadUntil(deviceId, until);
  }

  async uploadUntil(deviceId: string): Promise<number | undefined> {
    return (await this.store.devices.sampleRequests(deviceId)).uploadUntil ?? undefined;
  }

  setCapture(deviceId: string, capture: SampleCapture): Promise<void> {
    return this.store.devices.setSampleCapture(deviceId, capture);
  }

  clearCapture(deviceId: string): Promise<void> {
    return this.store.devices.setSampleCapture(deviceId, null);
  }

  /** The device's capture window, also once it has passed (the caller compares with the clock). */
  async capture(deviceId: string): Promise<SampleCapture | undefined> {
    const { capture } = await this.store.devices.sampleRequests(deviceId);
    if (capture === null) return undefined;
    const parsed = sampleCaptureSchema.safeParse(capture);
    return parsed.success ? parsed.data : undefined;
  }

  /** Both requests at once, for the desired state. */
  async requests(deviceId: string): Promise<{ uploadUntil?: number; capture?: SampleCapture }> {
    const { uploadUntil, capture } = await this.store.devices.sampleRequests(deviceId);
    const parsed = capture === null ? undefined : sampleCaptureSchema.safeParse(capture);
    return { ...(uploadUntil !== null ? { uploadUntil } : {}), ...(parsed?.success ? { capture: parsed.data } : {}) };
  }
}
