/**
 * @module api/openapi
 * The OpenAPI 3.1 document of the REST API, served at GET /api/v1/openapi.json (no auth).
 * One table row per route; openapi.test.ts walks the Hono app's registered routes and fails when
 * a route is missing here or a row names a route that does not exist, so the two cannot drift.
 *
 * Security: `admin` (Authorization: Bearer <admin token>) unless a row says otherwise; artifact
 * downloads also take `device` (HTTP Basic deviceId:password from enrollment).
 */
import { ROLLOUT_STATES } from '@edgeloop/protocol';
import { OPERATOR_VERBS } from '../rollouts/rollout-actions.js';
import { componentSchemas, ref } from './openapi-components.js';

type Schema = Record<string, unknown>;
type Method = 'get' | 'post' | 'put' | 'delete' | 'patch';
type Auth = 'admin' | 'public' | 'device-or-admin';

interface Operation {
  method: Method;
  /** OpenAPI style: /api/v1/models/{name} */
  path: string;
  tag: string;
  summary: string;
  auth?: Auth;
  query?: Record<string, Schema & { description?: string }>;
  requiredQuery?: string[];
  /** Schemas for path parameters other than plain strings (`version` is an integer everywhere). */
  pathParams?: Record<string, Schema>;
  /** JSON body, or `{ multipart: schema }` for form uploads. */
  body?: Schema | { multipart: Schema };
  bodyOptional?: boolean;
  /** status → schema of the JSON answer (or a full response object with `content`). */
  ok: Record<number, Schema | { description: string; content: Record<string, unknown>; headers?: Record<string, unknown> }>;
  /** Extra error statuses beyond the defaults (400 for bodies/queries, 401 for auth, 404 for path ids). */
  errors?: number[];
}

const id = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' };
const version = { type: 'integer', minimum: 1 };
const limit = { type: 'integer', minimum: 1, maximum: 10_000 };
const json = (properties: Record<string, Schema>, required = Object.keys(properties)): Schema => ({ type: 'object', properties, required });
const list = (key: string, item: string): Schema => json({ [key]: { type: 'array', items: ref(item) } });

/** Every route of the API. Keep in step with api/*-routes.ts (openapi.test.ts enforces it). */
export const OPERATIONS: readonly Operation[] = [
  { method: 'get', path: '/', tag: 'console', summary: 'Status page (HTML)', auth: 'public', ok: { 200: { description: 'the fleet status page', content: { 'text/html': {} } } } },
  { method: 'get', path: '/api/v1/health', tag: 'server', summary: 'Liveness, versions and the root public key devices trust', auth: 'public', ok: { 200: ref('Health') } },
  { method: 'get', path: '/api/v1/openapi.json', tag: 'server', summary: 'This document', auth: 'public', ok: { 200: { description: 'OpenAPI 3.1 document', content: { 'application/json': {} } } } },
  { method: 'get', path: '/metrics', tag: 'server', summary: 'Prometheus counters: embedded broker refusals by reason, connections, pending connections', ok: { 200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': {} } } } },

  // identity
  { method: 'post', path: '/api/v1/enroll', tag: 'identity', summary: 'A device trades an enrollment token for its credentials', auth: 'public', body: ref('EnrollRequest'), ok: { 200: ref('Enrollment') }, errors: [401, 403] },
  { method: 'post', path: '/api/v1/enrollment-tokens', tag: 'identity', summary: 'Create an enrollment token (plaintext shown once)', body: ref('EnrollmentTokenRequest'), bodyOptional: true, ok: { 201: json({ token: { type: 'string' }, enrollmentToken: ref('EnrollmentToken'), caFingerprint: { type: 'string', description: 'with TLS: sha256:<hex> of the CA public key, for edgeloop-agent enroll --ca-fingerprint' } }, ['token', 'enrollmentToken']) } },
  { method: 'get', path: '/api/v1/enrollment-tokens', tag: 'identity', summary: 'List enrollment tokens (no secrets)', ok: { 200: list('enrollmentTokens', 'EnrollmentToken') } },
  { method: 'post', path: '/api/v1/enrollment-tokens/{id}/revoke', tag: 'identity', summary: 'Revoke an enrollment token', ok: { 200: json({ enrollmentToken: ref('EnrollmentToken') }) }, errors: [409] },
  { method: 'post', path: '/api/v1/admin-tokens', tag: 'identity', summary: 'Create an admin token (plaintext shown once)', body: json({ name: { type: 'string', pattern: '^[A-Za-z0-9_.@-]{1,64}$' } }), ok: { 201: json({ token: { type: 'string' }, adminToken: ref('AdminToken') }) } },
  { method: 'get', path: '/api/v1/admin-tokens', tag: 'identity', summary: 'List admin tokens (no secrets)', ok: { 200: list('adminTokens', 'AdminToken') } },
  { method: 'post', path: '/api/v1/admin-tokens/{id}/revoke', tag: 'identity', summary: 'Revoke an admin token (not the last active one)', ok: { 200: json({ adminToken: ref('AdminToken') }) }, errors: [409] },

  // devices
  {
    method: 'get', path: '/api/v1/devices', tag: 'devices', summary: 'Devices (all, or by group / tags / disabled): versions, backlog, records, group, tags',
    query: { group: id, tag: { type: 'array', items: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}=.{1,128}$' }, description: 'key=value; repeat for several (all must match)' }, disabled: { enum: ['true', 'false'] } },
    ok: { 200: list('devices', 'Device') },
  },
  { method: 'get', path: '/api/v1/devices/{id}', tag: 'devices', summary: 'One device with its events and desired state', ok: { 200: ref('DeviceDetail') } },
  { method: 'put', path: '/api/v1/devices/{id}', tag: 'devices', summary: 'Set group (null clears) and/or tags (replace)', body: ref('DeviceLabels'), ok: { 200: json({ device: ref('Device') }) } },
  { method: 'post', path: '/api/v1/devices/{id}/disable', tag: 'devices', summary: 'Disable a device: its broker sessions close, it cannot connect or enroll', ok: { 200: json({ device: ref('Device') }) } },
  { method: 'post', path: '/api/v1/devices/{id}/enable', tag: 'devices', summary: 'Enable a disabled device again', ok: { 200: json({ device: ref('Device') }) } },
  { method: 'post', path: '/api/v1/devices/{id}/revoke', tag: 'devices', summary: 'Delete the device credential (it must enroll again)', ok: { 200: json({ device: ref('Device'), credential: { type: 'null' } }) }, errors: [409] },
  { method: 'post', path: '/api/v1/devices/{id}/samples/capture', tag: 'samples', summary: 'Ask a device to keep (and upload) its inputs for N minutes, whatever its local policies; honoured only where sampling.captureOnRequest is on', body: json({ minutes: { type: 'number', minimum: 1, maximum: 10080, default: 30 }, models: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 16 }, everyN: { type: 'integer', minimum: 1, maximum: 100000, default: 1 } }, []), bodyOptional: true, ok: { 200: json({ deviceId: { type: 'string' }, capture: { type: 'object' }, uploadUntil: { type: 'integer' } }) } },
  { method: 'delete', path: '/api/v1/devices/{id}/samples/capture', tag: 'samples', summary: 'Close a device\'s capture window early (what it kept still uploads)', ok: { 200: json({ deviceId: { type: 'string' }, stopped: { type: 'boolean' } }) } },
  { method: 'post', path: '/api/v1/devices/{id}/samples/request', tag: 'samples', summary: 'Ask a device to upload kept samples for N minutes', body: json({ minutes: { type: 'number', minimum: 1, maximum: 10080, default: 60 } }, []), bodyOptional: true, ok: { 200: json({ deviceId: { type: 'string' }, uploadUntil: { type: 'integer' } }) } },
  {
    method: 'post', path: '/api/v1/deployments', tag: 'devices', summary: 'Assign a model version to devices directly (role shadow: run beside the serving version, never answer)',
    body: json({ model: id, version, devices: { type: 'array', items: id, minItems: 1, maxItems: 10_000 }, role: { enum: ['serve', 'shadow'] } }, ['model', 'version', 'devices']),
    ok: { 200: json({ deployment: json({ model: id, version, devices: { type: 'array', items: id }, role: { enum: ['serve', 'shadow'] } }, ['model', 'version', 'devices']) }) },
  },
  {
    method: 'delete', path: '/api/v1/deployments/shadow/{model}', tag: 'devices', summary: 'Stop a shadow model on these devices (the serving assignment is untouched)',
    body: json({ devices: { type: 'array', items: id, minItems: 1, maxItems: 10_000 } }), ok: { 200: json({ removed: { type: 'array', items: id } }) },
  },
  {
    method: 'get', path: '/api/v1/telemetry', tag: 'telemetry', summary: 'Synced predictions (with reference values where joined)',
    query: { device: id, model: id, version, afterId: { type: 'integer', minimum: 0 }, limit, order: { enum: ['newest', 'oldest'] }, shadow: { enum: ['true', 'false'], description: 'only shadow (true) or only served (false) records' } },
    ok: { 200: list('records', 'TelemetryRow') },
  },
  {
    method: 'get', path: '/api/v1/telemetry/error', tag: 'telemetry', summary: 'Live error vs reference values per version, served and shadow',
    query: { model: id, version, shadow: { enum: ['true', 'false'] }, device: id, since: { type: 'integer', minimum: 0, description: 'only records made after this time (ms since epoch)' } }, requiredQuery: ['model'],
    ok: { 200: list('errors', 'LiveError') },
  },
  { method: 'get', path: '/api/v1/samples', tag: 'samples', summary: 'Inputs devices kept for retraining', query: { device: id, model: id, limit }, ok: { 200: list('samples', 'Sample') } },
  { method: 'get', path: '/api/v1/samples/{id}/content', tag: 'samples', summary: 'The bytes of one sample', ok: { 200: { description: 'the raw input, with its content type', content: { '*/*': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } } } } },

  // models
  {
    method: 'post', path: '/api/v1/models', tag: 'models', summary: 'Register (push) a model version: ONNX file + optional metadata; signs its manifest',
    body: { multipart: json({ file: { type: 'string', contentMediaType: 'application/octet-stream' }, name: id, version: { type: 'string', pattern: '^[1-9][0-9]*$' }, metadata: { type: 'string', contentMediaType: 'application/json', contentSchema: ref('ModelMetadata') } }, ['file', 'name']) },
    ok: { 201: json({ model: ref('ModelVersion') }) }, errors: [409, 413, 415],
  },
  { method: 'get', path: '/api/v1/models', tag: 'models', summary: 'Every model version', ok: { 200: list('models', 'ModelVersion') } },
  {
    method: 'get', path: '/api/v1/models/{name}/versions/{version}', tag: 'models', summary: 'One version with its signed envelope, training summary and ancestry',
    ok: { 200: json({ model: ref('ModelVersion'), envelope: ref('SignedEnvelope'), trainingSummary: { anyOf: [{ type: 'object' }, { type: 'null' }] }, ancestry: { type: 'array', items: ref('ModelVersion') } }) },
  },
  {
    method: 'put', path: '/api/v1/models/{name}/versions/{version}/status', tag: 'models', summary: 'Approve, deprecate or revoke a version (revoking removes it from every device)',
    body: ref('ModelStatusChange'), ok: { 200: json({ model: ref('ModelVersion'), changed: { type: 'boolean' }, removedFrom: { type: 'array', items: { type: 'string' } } }) }, errors: [409],
  },
  { method: 'get', path: '/api/v1/models/{name}/lineage', tag: 'models', summary: 'Every version of a model, newest first, with parent links', ok: { 200: ref('LineageResponse') } },
  {
    method: 'get', path: '/api/v1/artifacts/{sha256}', tag: 'models', auth: 'device-or-admin',
    summary: 'Download an artifact (one Range: bytes=a-b honoured); a device gets only artifacts assigned to it, queued under the concurrent-download cap',
    ok: {
      200: { description: 'the whole artifact', content: { 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } } },
      206: { description: 'the requested byte range', headers: { 'content-range': { schema: { type: 'string' } } }, content: { 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } } },
    },
    errors: [403, 416],
  },

  // keys
  { method: 'get', path: '/api/v1/keys', tag: 'keys', summary: 'Root key, signing key, keyset, pending rotation, retired keys', ok: { 200: ref('Keys') } },
  { method: 'post', path: '/api/v1/keys/rotate', tag: 'keys', summary: 'Rotate the signing key (202 with a keyset to sign when the root is offline)', ok: { 200: ref('RotateResult'), 202: ref('RotateResult') } },
  { method: 'post', path: '/api/v1/keys/keyset', tag: 'keys', summary: 'Upload the pending keyset signed by the offline root key', body: json({ envelope: ref('SignedEnvelope') }), ok: { 200: ref('RotateResult') }, errors: [409] },

  // rollouts
  {
    method: 'post', path: '/api/v1/rollouts', tag: 'rollouts', summary: 'Start a rollout: direct, staged waves, canary, A/B or shadow, with health gates',
    body: ref('CreateRollout'), ok: { 201: json({ rollout: ref('RolloutSummary') }) }, errors: [404, 409],
  },
  {
    method: 'get', path: '/api/v1/rollouts', tag: 'rollouts', summary: 'Rollouts, newest first',
    query: { model: id, state: { enum: [...ROLLOUT_STATES] }, limit: { type: 'integer', minimum: 1, maximum: 1000 } }, ok: { 200: list('rollouts', 'RolloutSummary') },
  },
  { method: 'get', path: '/api/v1/rollouts/{id}', tag: 'rollouts', summary: 'Progress: counts per state and wave, gate readings, live error per arm', ok: { 200: ref('RolloutDetail') } },
  {
    method: 'post', path: '/api/v1/rollouts/{id}/{verb}', tag: 'rollouts', summary: 'Pause, resume, abort, roll back or promote a rollout',
    pathParams: { verb: { enum: [...OPERATOR_VERBS] } }, body: json({ reason: { type: 'string', minLength: 1, maxLength: 500 } }, []), bodyOptional: true,
    ok: { 200: json({ rollout: ref('RolloutSummary') }) }, errors: [409],
  },

  // audit
  {
    method: 'get', path: '/api/v1/audit', tag: 'audit', summary: 'Who changed what, newest first (action matches a verb or a whole area)',
    query: { actor: { type: 'string' }, action: { type: 'string', description: 'e.g. device.disable, or device for every device.* entry' }, target: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 1000 }, before: { type: 'integer', minimum: 1, description: 'page backwards: the smallest id seen' } },
    ok: { 200: list('entries', 'AuditEntry') },
  },
];

const ERROR_TEXT: Record<number, string> = {
  400: 'invalid request: the body or query says what is wrong',
  401: 'missing or wrong credentials: the body says what to send',
  403: 'refused',
  404: 'no such resource',
  409: 'conflicts with the current state',
  413: 'body too large',
  415: 'wrong content type',
  416: 'range not satisfiable',
};

function operationObject(op: Operation): Schema {
  const params: Array<{ name: string; in: 'path' | 'query'; required: boolean; schema: Schema }> = [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => ({
    name: m[1]!, in: 'path' as const, required: true,
    schema: op.pathParams?.[m[1]!] ?? (m[1] === 'version' ? version : m[1] === 'sha256' ? { type: 'string', pattern: '^[0-9a-f]{64}$' } : { type: 'string' }),
  }));
  for (const [name, schema] of Object.entries(op.query ?? {})) params.push({ name, in: 'query', required: op.requiredQuery?.includes(name) ?? false, schema });
  const responses: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(op.ok)) {
    responses[status] = 'content' in r ? r : { description: 'OK', content: { 'application/json': { schema: r } } };
  }
  const errors = new Set(op.errors ?? []);
  if (op.body || op.query) errors.add(400);
  if ((op.auth ?? 'admin') !== 'public') errors.add(401);
  if (params.some((p) => p.in === 'path')) errors.add(404);
  for (const status of [...errors].sort()) responses[status] = { description: ERROR_TEXT[status] ?? 'error', content: { 'application/json': { schema: ref('Error') } } };
  const auth = op.auth ?? 'admin';
  return {
    tags: [op.tag],
    summary: op.summary,
    operationId: `${op.method}${op.path.replace(/^\/api\/v1/, '').replace(/\{([^}]+)\}/g, 'By-$1').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : '')) || 'Root'}`,
    ...(params.length ? { parameters: params } : {}),
    ...(op.body
      ? {
          requestBody: {
            required: !op.bodyOptional,
            content: 'multipart' in op.body ? { 'multipart/form-data': { schema: op.body.multipart } } : { 'application/json': { schema: op.body } },
          },
        }
      : {}),
    responses,
    security: auth === 'public' ? [] : auth === 'admin' ? [{ admin: [] }] : [{ device: [] }, { admin: [] }],
  };
}

/** The whole document; `version` is the server's. */
export function buildOpenApiDocument(serverVersion: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) (paths[op.path] ??= {})[op.method] = operationObject(op);
  return {
    openapi: '3.1.0',
    info: {
      title: 'EdgeLoop fleet server',
      version: serverVersion,
      description: 'Devices, enrollment, models (registry, lineage, signing keys), rollouts, telemetry and the audit log. Errors are JSON {"error": reason} saying what to do next.',
    },
    paths,
    components: {
      schemas: componentSchemas(),
      securitySchemes: {
        admin: { type: 'http', scheme: 'bearer', description: 'an admin token (the first is written to <data>/admin.token on first start; edgeloop admin-tokens create makes more)' },
        device: { type: 'http', scheme: 'basic', description: 'device credentials from enrollment (deviceId:password); artifact downloads only' },
      },
    },
    security: [{ admin: [] }],
  };
}
