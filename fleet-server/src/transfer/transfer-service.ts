/**
 * @module transfer/transfer-service
 * Artifact delivery to devices, whichever way they fetch: the MQTT `fetch` handler (below), and
 * the pieces the HTTP artifact route shares with it — which artifacts a device may fetch (only
 * those currently assigned to it, serving or shadow), the cap on concurrent downloading devices
 * (download-slots.ts) and bytes-per-device accounting (transfer-counters.ts).
 *
 * MQTT (protocol chunk-transfer.ts): a device asks for a byte range; the server answers with
 * blocks of CHUNK_BLOCK_BYTES on the device's `chunk` topic, QoS 1, one block at a time per device
 * (each publish waits for the broker's PUBACK, which paces a device to what the broker takes).
 * Never beyond the signed size: a range past the end of the artifact is refused, not clipped.
 */
import type { Logger } from 'pino';
import {
  blocksOf,
  decodeMessage,
  deviceTopic,
  encodeChunk,
  encodeChunkNotice,
  fetchRequestSchema,
  MAX_FETCH_MESSAGE_BYTES,
  type FetchRequest,
} from '@edgeloop/protocol';
import type { BlobStore } from '../store/blobs/blob-store.js';
import type { FleetStore } from '../store/fleet-store.js';
import { DownloadSlots, type Admission } from './download-slots.js';
import { TransferCounters } from './transfer-counters.js';

export interface TransferOptions {
  /** Devices downloading at once (HTTP and MQTT together); the rest wait in line. */
  maxConcurrentDownloads: number;
  /** A downloading device that made no request for this long loses its slot. */
  slotIdleMs: number;
}

export const DEFAULT_TRANSFER_OPTIONS: TransferOptions = { maxConcurrentDownloads: 64, slotIdleMs: 15_000 };

/** Fetches one device may have waiting; more are refused (a device needs one at a time, plus re-requests). */
const MAX_QUEUED_FETCHES = 32;

export class TransferService {
  readonly slots: DownloadSlots;
  readonly counters: TransferCounters;
  private readonly queues = new Map<string, { tail: Promise<void>; size: number }>();
  /** Fetches answered, refused, and malformed messages dropped (for health and tests). */
  readonly stats = { fetches: 0, refused: 0, malformed: 0, blocks: 0 };

  constructor(
    private readonly store: FleetStore,
    private readonly artifacts: BlobStore,
    private readonly log: Logger,
    opts: Partial<TransferOptions> = {},
  ) {
    const o = { ...DEFAULT_TRANSFER_OPTIONS, ...opts };
    this.slots = new DownloadSlots({ maxConcurrent: o.maxConcurrentDownloads, idleMs: o.slotIdleMs });
    this.counters = new TransferCounters(store, 500, (err) =>
      this.log.warn({ err: err.message }, 'transfer counters not written; retried on the next flush'),
    );
  }

  /** The artifact's size if it is assigned to the device (serving or shadow), else undefined. */
  async assignedSize(deviceId: string, sha256: string): Promise<number | undefined> {
    for (const v of await this.store.models.withArtifact(sha256)) {
      const [serve, shadow] = await Promise.all([
        this.store.assignments.get(deviceId, v.name),
        this.store.shadows.get(deviceId, v.name),
      ]);
      if (serve?.version === v.version || shadow?.version === v.version) return v.size;
    }
    return undefined;
  }

  /** Admission for one request of a device (the HTTP route awaits `ready` when not admitted). */
  enter(deviceId: string): Admission {
    return this.slots.enter(deviceId);
  }

  /** After sending bytes [start, end] of an artifact of `size` bytes to the device. */
  sent(
    deviceId: string,
    sha256: string,
    transport: 'http' | 'mqtt',
    bytes: number,
    newRequest: boolean,
    reachedEnd: boolean,
  ): void {
    this.counters.add(deviceId, sha256, transport, bytes, newRequest ? 1 : 0);
    if (reachedEnd) this.slots.release(deviceId);
    else this.slots.touch(deviceId);
  }

  /** The `fetch` channel handler: each device's fetches are answered in order, devices in parallel. */
  fetchHandler(
    publish: (topic: string, payload: Buffer) => Promise<void>,
  ): (deviceId: string, payload: Buffer) => Promise<void> {
    return async (deviceId, payload) => {
      const decoded = decodeMessage(fetchRequestSchema, payload, MAX_FETCH_MESSAGE_BYTES);
      if (!decoded.ok) {
        this.stats.malformed++;
        this.log.warn({ deviceId, code: decoded.code, reason: decoded.reason }, 'rejected malformed artifact fetch');
        return;
      }
      const q = this.queues.get(deviceId) ?? { tail: Promise.resolve(), size: 0 };
      if (q.size >= MAX_QUEUED_FETCHES) {
        this.stats.refused++;
        await this.notice(
          publish,
          deviceId,
          decoded.value,
          'refused',
          `more than ${MAX_QUEUED_FETCHES} fetches outstanding; wait for the answers before asking again`,
        );
        return;
      }
      q.size++;
      this.queues.set(deviceId, q);
      const run = q.tail
        .then(() => this.answer(publish, deviceId, decoded.value))
        .catch((err: Error) => {
          this.log.warn(
            { deviceId, sha256: decoded.value.sha256, err: err.message },
            'artifact fetch failed; the device re-requests what it is missing',
          );
        });
      q.tail = run.finally(() => {
        if (--q.size === 0 && this.queues.get(deviceId) === q) this.queues.delete(deviceId);
      });
      // Not awaited by the bus: a device waiting for a slot must not hold up other devices' messages.
    };
  }

  close(): Promise<void> {
    this.slots.close();
    return this.counters.close();
  }

  private async answer(
    publish: (topic: string, payload: Buffer) => Promise<void>,
    deviceId: string,
    req: FetchRequest,
  ): Promise<void> {
    const size = await this.assignedSize(deviceId, req.sha256);
    if (size === undefined) {
      this.stats.refused++;
      this.log.warn({ deviceId, sha256: req.sha256 }, 'refused artifact fetch: not assigned to this device');
      return this.notice(
        publish,
        deviceId,
        req,
        'refused',
        `artifact ${req.sha256} is not assigned to device ${deviceId}; only artifacts in its desired state are sent`,
      );
    }
    if (req.offset + req.length > size) {
      this.stats.refused++;
      return this.notice(
        publish,
        deviceId,
        req,
        'refused',
        `bytes ${req.offset}-${req.offset + req.length - 1} lie beyond the artifact's ${size} bytes`,
      );
    }
    const admission = this.slots.enter(deviceId);
    if (!admission.admitted) {
      await this.notice(
        publish,
        deviceId,
        req,
        'queued',
        `${this.slots.opts.maxConcurrent} devices are downloading; this device is number ${admission.position} in line`,
      );
      await admission.ready;
    }
    this.stats.fetches++;
    const topic = deviceTopic(deviceId, 'chunk');
    let first = true;
    for (const block of blocksOf(req.offset, req.length)) {
      // Block by block: a fetch may ask for MAX_FETCH_BYTES, and the device may vanish half-way.
      const bytes = await this.artifacts.readRange(req.sha256, block.offset, block.length).catch((err: Error) => {
        throw new Error(`artifact ${req.sha256} (${size} bytes registered) cannot be read: ${err.message}`, {
          cause: err,
        });
      });
      await publish(topic, encodeChunk(req.sha256, block.offset, bytes));
      this.stats.blocks++;
      this.sent(deviceId, req.sha256, 'mqtt', block.length, first, block.offset + block.length === size);
      first = false;
    }
  }

  private async notice(
    publish: (topic: string, payload: Buffer) => Promise<void>,
    deviceId: string,
    req: FetchRequest,
    kind: 'refused' | 'queued',
    reason: string,
  ): Promise<void> {
    await publish(deviceTopic(deviceId, 'chunk'), encodeChunkNotice(kind, req.sha256, req.offset, reason)).catch(
      () => undefined,
    );
  }
}
