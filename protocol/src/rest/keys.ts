/**
 * @module rest/keys
 * The trust chain over REST: GET /api/v1/keys, POST /api/v1/keys/rotate (202 with a keyset to
 * sign when the root key is offline) and POST /api/v1/keys/keyset (that keyset, root-signed).
 */
import { z } from 'zod';
import { epochMsSchema, restEnvelopeSchema } from './shared.js';

/** An unsigned keyset for the offline root: sign `payload` (base64) with payloadType, POST the envelope. */
export const pendingKeysetSchema = z
  .object({
    keyId: z.string(),
    version: z.number().int(),
    payloadType: z.string(),
    payload: z.string().meta({ contentEncoding: 'base64' }),
  })
  .meta({ id: 'PendingKeyset' });
export type PendingKeyset = z.infer<typeof pendingKeysetSchema>;

/** GET /api/v1/keys: the trust chain as the server holds it. */
export const keysResponseSchema = z
  .object({
    /** Root keys (what devices list in fleet.trustedKeys); `local` = the private half is on this server. */
    root: z.object({ keyId: z.string(), publicKey: z.string(), local: z.boolean() }),
    /** The key that signs manifests now, if any (none before an offline root signed the first keyset). */
    signingKey: z
      .object({ keyId: z.string(), publicKey: z.string(), activatedAt: epochMsSchema.nullable() })
      .nullable(),
    /** A key waiting for its keyset to be signed by the offline root. */
    pending: pendingKeysetSchema.nullable(),
    keyset: z.object({ version: z.number().int(), keyIds: z.array(z.string()), created: z.string() }).nullable(),
    retired: z.array(z.object({ keyId: z.string(), retiredAt: epochMsSchema.nullable() })),
  })
  .meta({ id: 'Keys' });
export type KeysResponse = z.infer<typeof keysResponseSchema>;

/** POST /api/v1/keys/rotate and /api/v1/keys/keyset. */
export const rotateResponseSchema = z
  .object({
    /** done: the new key is active; pending: sign `pending` with the offline root key. */
    state: z.enum(['done', 'pending']),
    pending: pendingKeysetSchema.optional(),
    keyset: z.object({ version: z.number().int(), keyIds: z.array(z.string()) }).optional(),
    /** Manifests re-signed with the new key and devices whose desired state was republished. */
    resigned: z.number().int().optional(),
    devices: z.number().int().optional(),
  })
  .meta({ id: 'RotateResult' });
export type RotateResponse = z.infer<typeof rotateResponseSchema>;

/** POST /api/v1/keys/keyset: the pending keyset, signed by the root key. */
export const keysetUploadSchema = z.object({ envelope: restEnvelopeSchema }).strict();
