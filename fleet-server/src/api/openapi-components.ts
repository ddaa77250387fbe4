/**
 * @module api/openapi-components
 * The schemas the OpenAPI document refers to (`#/components/schemas/…`). Request bodies come
 * from the zod schemas the routes validate with (z.toJSONSchema, so they cannot drift); response
 * shapes mirror protocol/src/rest*.ts, written by hand because those are TypeScript interfaces.
 * Response schemas name the fields clients rely on and allow more (additive changes are fine).
 */
import { z } from 'zod';
import { ROLLOUT_DEVICE_STATES, ROLLOUT_STATES, ROLLOUT_STRATEGIES, MODEL_STATUSES, signedEnvelopeSchema, tensorSpecSchema } from '@edgeloop/protocol';
import { modelMetadataSchema } from '../registry/model-metadata.js';
import { statusChangeSchema } from '../registry/model-status.js';
import { createRolloutSchema } from '../rollouts/rollout-params.js';
import { tagsSchema } from './identity-routes.js';

type Schema = Record<string, unknown>;

/** JSON Schema 2020-12 (OpenAPI 3.1's dialect) of what a zod schema accepts. */
export function fromZod(schema: z.ZodType): Schema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Schema;
  return rest;
}

export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const str: Schema = { type: 'string' };
const int: Schema = { type: 'integer' };
const num: Schema = { type: 'number' };
const bool: Schema = { type: 'boolean' };
const ms: Schema = { type: 'integer', description: 'milliseconds since the Unix epoch' };
const nullable = (s: Schema): Schema => ({ anyOf: [s, { type: 'null' }] });
const arrayOf = (s: Schema): Schema => ({ type: 'array', items: s });
const strMap: Schema = { type: 'object', additionalProperties: { type: 'string' } };
const numMap: Schema = { type: 'object', additionalProperties: { type: 'number' } };
/** An object with these properties, all required unless listed as optional. */
function obj(properties: Record<string, Schema>, optional: string[] = []): Schema {
  return { type: 'object', properties, required: Object.keys(properties).filter((k) => !optional.includes(k)) };
}
const countsByState = (states: readonly string[]): Schema => ({ type: 'object', properties: Object.fromEntries(states.map((s) => [s, int])) });

const assignment = obj({ model: str, version: int, state: str, code: nullable(str), reason: nullable(str), updatedAt: ms });

export function componentSchemas(): Record<string, Schema> {
  return {
    Error: { ...obj({ error: { type: 'string', description: 'what went wrong and what to send or do instead' } }), additionalProperties: true },
    Health: obj(
      { status: { const: 'ok' }, version: str, mqttUrl: str, keyId: str, publicKey: { type: 'string', description: 'root public key (base64): what devices trust' }, rootKeyId: str, signingKeyId: nullable(str), keysetVersion: int },
      ['rootKeyId', 'signingKeyId', 'keysetVersion'],
    ),
    Device: obj({
      id: str, online: bool, lastSeen: nullable(ms), firstSeen: ms, session: int, agentVersion: nullable(str), arch: nullable(str), platform: nullable(str),
      hardware: nullable(str), runtime: nullable(obj({ name: str, version: str })), stream: nullable(str),
      models: arrayOf({ type: 'object', description: 'a model the device runs, as it last reported' }),
      assignments: arrayOf(assignment), shadows: arrayOf(assignment), backlog: int, dropped: int, records: int, bytesSent: int,
      group: nullable(str), tags: strMap, disabled: bool,
    }),
    DeviceDetail: obj({
      device: ref('Device'), events: arrayOf({ type: 'object' }), desired: nullable({ type: 'object', description: 'the desired state published to the device' }),
      credential: nullable(obj({ username: str, issuedAt: ms })),
    }),
    LiveError: obj({ model: str, version: int, shadow: bool, n: { type: 'integer', description: 'records with both a prediction and a reference' }, mae: nullable(num), rmse: nullable(num) }),
    TelemetryRow: obj({
      id: int, deviceId: str, stream: str, seq: int, ts: ms, receivedAt: ms, model: str, version: int, requestId: nullable(str), output: arrayOf(num),
      prediction: nullable(num), latencyMs: num, features: numMap, reference: nullable(num), historical: bool, shadow: bool,
    }),
    ModelVersion: obj({
      name: str, version: int, sha256: str, size: int, createdAt: str, expiresAt: str, keyId: str,
      inputs: arrayOf(fromZod(tensorSpecSchema)), outputs: arrayOf(fromZod(tensorSpecSchema)), preprocessing: { type: 'object' }, postprocessing: { type: 'object' },
      targets: obj({ arch: arrayOf(str), hardware: arrayOf(str) }), status: { enum: [...MODEL_STATUSES] }, statusReason: nullable(str), description: nullable(str),
      labels: strMap, metrics: numMap, lineage: ref('Lineage'), hasTrainingSummary: bool,
    }),
    Lineage: obj({ parent: int, datasetId: str, trainingRunId: str, trigger: str, notes: str }, ['parent', 'datasetId', 'trainingRunId', 'trigger', 'notes']),
    LineageResponse: obj({ name: str, versions: arrayOf(obj({ version: int, sha256: str, createdAt: ms, status: { enum: [...MODEL_STATUSES] }, lineage: ref('Lineage') })) }),
    ModelMetadata: fromZod(modelMetadataSchema),
    ModelStatusChange: fromZod(statusChangeSchema),
    SignedEnvelope: fromZod(signedEnvelopeSchema),
    Keys: obj({
      root: obj({ keyId: str, publicKey: str, local: bool }),
      signingKey: nullable(obj({ keyId: str, publicKey: str, activatedAt: nullable(ms) })),
      pending: nullable(ref('PendingKeyset')),
      keyset: nullable(obj({ version: int, keyIds: arrayOf(str), created: str })),
      retired: arrayOf(obj({ keyId: str, retiredAt: nullable(ms) })),
    }),
    PendingKeyset: obj({ keyId: str, version: int, payloadType: str, payload: { type: 'string', contentEncoding: 'base64' } }),
    RotateResult: obj(
      { state: { enum: ['done', 'pending'] }, pending: ref('PendingKeyset'), keyset: obj({ version: int, keyIds: arrayOf(str) }), resigned: int, devices: int },
      ['pending', 'keyset', 'resigned', 'devices'],
    ),
    Sample: obj({
      id: int, deviceId: str, stream: str, seq: int, model: str, version: int, ts: ms, reason: str, prediction: nullable(num), reference: nullable(num),
      contentType: str, sha256: str, bytes: int, receivedAt: ms,
    }),
    EnrollRequest: obj({ token: str, deviceId: str, arch: str, hardware: str }, ['arch', 'hardware']),
    Enrollment: obj({
      deviceId: str, username: { type: 'string', description: 'MQTT username and HTTP Basic user (= deviceId)' },
      password: { type: 'string', description: 'shown once; the server keeps only a hash' }, mqttUrl: str, httpUrl: str, trustedKeys: arrayOf(str),
    }),
    EnrollmentTokenRequest: obj({ uses: { type: 'integer', minimum: 1, default: 1 }, ttlSeconds: { type: 'integer', minimum: 60, default: 86400 }, group: str, tags: fromZod(tagsSchema) }, ['uses', 'ttlSeconds', 'group', 'tags']),
    EnrollmentToken: obj({
      id: str, uses: int, usesLeft: int, expiresAt: ms, group: nullable(str), tags: strMap, createdAt: ms, createdBy: str, revokedAt: nullable(ms),
      status: { enum: ['active', 'used-up', 'expired', 'revoked'] },
    }),
    AdminToken: obj({ id: str, name: str, createdAt: ms, createdBy: str, lastUsedAt: nullable(ms), revokedAt: nullable(ms) }),
    DeviceLabels: obj({ group: nullable(str), tags: fromZod(tagsSchema) }, ['group', 'tags']),
    AuditEntry: obj({ id: int, ts: ms, actor: { type: 'string', description: 'admin token name, device:<id>, or system' }, action: str, target: nullable(str), details: { type: 'object' } }),
    CreateRollout: fromZod(createRolloutSchema),
    RolloutSummary: obj({
      id: str, model: str, version: int, baselineVersion: nullable(int), strategy: { enum: [...ROLLOUT_STRATEGIES] }, role: { enum: ['serve', 'shadow'] },
      target: { type: 'object' }, state: { enum: [...ROLLOUT_STATES] }, reason: nullable(str), createdBy: str, createdAt: ms, updatedAt: ms, finishedAt: nullable(ms),
      currentWave: int, waveCount: int, holding: bool, rollbackVersions: { type: 'object', additionalProperties: int }, devices: int,
      counts: countsByState(ROLLOUT_DEVICE_STATES),
    }),
    RolloutDetail: {
      ...obj({ rollout: ref('RolloutSummary'), parameters: { type: 'object' }, waves: arrayOf({ type: 'object' }), gates: arrayOf({ type: 'object' }) }),
      description: 'progress: waves with per-state counts, the health gates and their readings',
    },
  };
}
