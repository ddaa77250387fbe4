/**
 * @module updates/update-options
 * The `updates` section of the agent config: how artifacts are downloaded (chunk size, retries,
 * an optional bandwidth cap for metered links) and how a freshly activated model is watched
 * (consecutive unhealthy starts before it is reverted).
 */
import { z } from 'zod';

export const updateOptionsSchema = z
  .object({
    /**
     * How artifacts are fetched. http: Range requests to the desired state's artifactUrl. mqtt:
     * fetch/chunk messages over the fleet link (for devices that reach the broker but not the
     * HTTP server). auto: HTTP while the artifactUrl answers; if it cannot be reached at all
     * (network error, 5xx) before a single range arrived, the same download continues over MQTT.
     * A desired-state entry's `transfer` hint overrides this.
     */
    transport: z.enum(['auto', 'http', 'mqtt']).default('auto'),
    /**
     * Bytes per HTTP Range request. Rounded to a whole number of the manifest's hashed chunks, so
     * every request can be verified on arrival; also the unit of progress kept across restarts.
     */
    chunkSize: z
      .number()
      .int()
      .min(4096)
      .max(16 * 1024 * 1024)
      .default(256 * 1024),
    /** Download bandwidth cap for metered links; 0 = unlimited. */
    maxBytesPerSecond: z.number().int().min(0).default(0),
    /** Fetches of one chunk whose hash does not match before the update is rejected (chunk-mismatch). */
    chunkRetries: z.number().int().min(1).max(100).default(3),
    /** Network failures in a row (no progress in between) before the download is given up until the next delivery. */
    networkRetries: z.number().int().min(0).max(100).default(5),
    /** A request is abandoned (and retried) after this long without receiving data. */
    requestTimeoutMs: z.number().int().min(1000).default(60_000),
    /** Consecutive starts that do not reach `healthyAfterMs` with a new model before it is reverted (crash-loop). */
    crashLoopStarts: z.number().int().min(1).max(100).default(3),
    /** How long a newly activated model must run before the agent stops counting starts. */
    healthyAfterMs: z.number().int().min(1000).default(60_000),
  })
  .prefault({});

export type UpdateOptions = z.infer<typeof updateOptionsSchema>;
export type UpdateOptionsInput = z.input<typeof updateOptionsSchema>;
