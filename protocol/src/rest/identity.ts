/**
 * @module rest/identity
 * Enrollment (a device trades a token for its credentials), enrollment tokens and admin tokens.
 * Plaintext secrets appear only in the answer that creates them.
 */
import { z } from 'zod';
import { ENROLLMENT_TOKEN_STATUSES } from './constants.js';
import { groupSchema, tagsSchema } from './devices.js';
import { adminRoleSchema } from './roles.js';
import { epochMsSchema, restIdSchema, stringMapSchema } from './shared.js';

/** POST /api/v1/enroll: a device trades an enrollment token for its credentials (no admin token needed). */
export const enrollRequestSchema = z
  .object({
    token: z.string().min(1).max(256),
    deviceId: restIdSchema,
    arch: z.string().max(32).optional(),
    hardware: z.string().max(64).optional(),
  })
  .meta({ id: 'EnrollRequest' });
export type EnrollRequest = z.infer<typeof enrollRequestSchema>;

/** What the device writes into its config: broker login, where to download, which keys to trust. */
export const enrollResponseSchema = z
  .object({
    deviceId: z.string(),
    /** MQTT username (= deviceId); also the HTTP Basic user for artifact downloads. */
    username: z.string().min(1).describe('MQTT username and HTTP Basic user (= deviceId)'),
    /** Shown once; the server keeps only a hash. Re-enrolling issues a new one. */
    password: z.string().min(1).describe('shown once; the server keeps only a hash'),
    mqttUrl: z.string(),
    httpUrl: z.string(),
    /** The fleet's root public keys: what the device verifies keysets with. */
    trustedKeys: z.array(z.string()).min(1),
  })
  .meta({ id: 'Enrollment' });
export type EnrollResponse = z.infer<typeof enrollResponseSchema>;

export const enrollmentTokenSummarySchema = z
  .object({
    id: z.string(),
    uses: z.number().int(),
    usesLeft: z.number().int(),
    expiresAt: epochMsSchema,
    group: z.string().nullable(),
    tags: stringMapSchema,
    createdAt: epochMsSchema,
    createdBy: z.string(),
    revokedAt: epochMsSchema.nullable(),
    status: z.enum(ENROLLMENT_TOKEN_STATUSES),
  })
  .meta({ id: 'EnrollmentToken' });
export type EnrollmentTokenSummary = z.infer<typeof enrollmentTokenSummarySchema>;

/** POST /api/v1/enrollment-tokens (every field optional: one use, 24 h). */
export const enrollmentTokenRequestSchema = z
  .object({
    uses: z.number().int().min(1).max(100_000).optional().describe('default 1'),
    ttlSeconds: z
      .number()
      .int()
      .min(60)
      .max(365 * 86_400)
      .optional()
      .describe('default 86400'),
    group: groupSchema.optional(),
    tags: tagsSchema.optional(),
  })
  .meta({ id: 'EnrollmentTokenRequest' });
export type EnrollmentTokenRequest = z.input<typeof enrollmentTokenRequestSchema>;

/** Answer of POST /api/v1/enrollment-tokens: the plaintext token appears here only. */
export const createdEnrollmentTokenSchema = z.object({
  token: z.string(),
  enrollmentToken: enrollmentTokenSummarySchema,
  /** With TLS: `sha256:<hex>` of the CA's public key, for `edgeloop-agent enroll --ca-fingerprint`. */
  caFingerprint: z
    .string()
    .optional()
    .describe('with TLS: sha256:<hex> of the CA public key, for edgeloop-agent enroll --ca-fingerprint'),
});
export type CreatedEnrollmentToken = z.infer<typeof createdEnrollmentTokenSchema>;

export const enrollmentTokenResponseSchema = z.object({ enrollmentToken: enrollmentTokenSummarySchema });
export const enrollmentTokenListResponseSchema = z.object({ enrollmentTokens: z.array(enrollmentTokenSummarySchema) });

export const adminTokenSummarySchema = z
  .object({
    id: z.string(),
    /** Recorded as the actor in the audit log. */
    name: z.string(),
    /** What the token may do (rest/roles.ts). */
    role: adminRoleSchema,
    createdAt: epochMsSchema,
    createdBy: z.string(),
    lastUsedAt: epochMsSchema.nullable(),
    revokedAt: epochMsSchema.nullable(),
  })
  .meta({ id: 'AdminToken' });
export type AdminTokenSummary = z.infer<typeof adminTokenSummarySchema>;

/**
 * POST /api/v1/admin-tokens: `name` is who uses the token (the audit log's actor); `role` is what
 * it may do, `admin` when absent (as every token could before roles existed, so scripts keep working).
 */
export const adminTokenRequestSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'name: 1-64 characters from A-Z a-z 0-9 _ . @ -'),
  role: adminRoleSchema.optional().describe('viewer | operator | admin; default admin'),
});

/** Answer of POST /api/v1/admin-tokens: the plaintext token appears here only. */
export const createdAdminTokenSchema = z.object({ token: z.string(), adminToken: adminTokenSummarySchema });
export type CreatedAdminToken = z.infer<typeof createdAdminTokenSchema>;

export const adminTokenResponseSchema = z.object({ adminToken: adminTokenSummarySchema });
export const adminTokenListResponseSchema = z.object({ adminTokens: z.array(adminTokenSummarySchema) });
