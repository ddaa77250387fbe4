/**
 * @module rest/health
 * GET /api/v1/health (no credentials): liveness, versions, the root public key devices trust,
 * and counters an operator watches (ingest, artifact delivery, an external Mosquitto's sync).
 * GET /api/v1/openapi.json: the API description itself.
 */
import { z } from 'zod';

export const healthResponseSchema = z
  .object({
    status: z.literal('ok'),
    version: z.string(),
    mqttUrl: z.string(),
    /** The active manifest signing key (same as signingKeyId; kept for older clients). */
    keyId: z.string(),
    /** The fleet's root public key: what devices put in fleet.trustedKeys. */
    publicKey: z.string().describe('root public key (base64): what devices trust'),
    rootKeyId: z.string().optional(),
    /** null while an offline root has not signed the first keyset. */
    signingKeyId: z.string().nullable().optional(),
    keysetVersion: z.number().int().optional(),
    /** Telemetry batches and records taken since start. */
    ingest: z
      .object({
        batches: z.number().int(),
        stored: z.number().int(),
        duplicates: z.number().int(),
        rejected: z.number().int(),
      })
      .optional(),
    artifactBytesServed: z.number().int().optional(),
    /** Download slots (active, waiting) and MQTT transfer counters. */
    transfer: z.record(z.string(), z.number()).optional(),
    /**
     * With a managed external Mosquitto: whether this server writes the files (the leader of a
     * cluster), devices with a broker password and enabled, writes, reloads, the last error.
     */
    mosquitto: z
      .object({
        writer: z.boolean(),
        devices: z.number().int(),
        enabled: z.number().int(),
        writes: z.number().int(),
        reloads: z.number().int(),
        lastError: z.string().nullable(),
      })
      .optional(),
    /** Which server of a cluster answered, and whether it holds the leader lease (rollouts, re-signing). */
    cluster: z.object({ instance: z.string(), leader: z.boolean() }).optional(),
  })
  .meta({ id: 'Health' });
export type HealthResponse = z.infer<typeof healthResponseSchema>;

/** The OpenAPI 3.1 document (only its frame is checked here; it is generated from the route table). */
export const openApiDocumentSchema = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});
