/**
 * @module rest/routes
 * Every route of the fleet server's HTTP API, with its request and answer schemas: the one
 * contract the server is checked against (its tests validate every answer), the OpenAPI
 * document is generated from, and the typed client is derived from. A route the server has and
 * this table lacks (or the other way round) fails the server's route test.
 *
 * The key of each entry is the route's name: the client's method and the OpenAPI operationId.
 */
import { z } from 'zod';
import { auditQuerySchema, auditResponseSchema } from './audit.js';
import {
  credentialRevokedResponseSchema,
  deploymentRequestSchema,
  deploymentResponseSchema,
  deviceDetailSchema,
  deviceFacetsResponseSchema,
  deviceLabelsRequestSchema,
  deviceListQuerySchema,
  deviceListResponseSchema,
  deviceResponseSchema,
  removeShadowRequestSchema,
  removeShadowResponseSchema,
} from './devices.js';
import { DATASET_ROUTES } from './dataset-routes.js';
import { healthResponseSchema, openApiDocumentSchema } from './health.js';
import {
  adminTokenListResponseSchema,
  adminTokenRequestSchema,
  adminTokenResponseSchema,
  createdAdminTokenSchema,
  createdEnrollmentTokenSchema,
  enrollRequestSchema,
  enrollResponseSchema,
  enrollmentTokenListResponseSchema,
  enrollmentTokenRequestSchema,
  enrollmentTokenResponseSchema,
} from './identity.js';
import { keysResponseSchema, keysetUploadSchema, rotateResponseSchema } from './keys.js';
import {
  lineageResponseSchema,
  modelDetailSchema,
  modelListResponseSchema,
  modelResponseSchema,
  modelUploadSchema,
  statusChangeResponseSchema,
  statusChangeSchema,
} from './models.js';
import { ROLLOUT_ACTIONS } from './constants.js';
import {
  createRolloutSchema,
  rolloutActionRequestSchema,
  rolloutDetailSchema,
  rolloutListQuerySchema,
  rolloutListResponseSchema,
  rolloutPreviewSchema,
  rolloutResponseSchema,
} from './rollouts.js';
import { route, type RouteSpec } from './route-spec.js';
import { sessionRequestSchema, sessionResponseSchema } from './sessions.js';
import {
  sampleCaptureRequestSchema,
  sampleCaptureResponseSchema,
  sampleCaptureStopResponseSchema,
  sampleListQuerySchema,
  sampleListResponseSchema,
  sampleUploadRequestSchema,
  sampleUploadResponseSchema,
} from './samples.js';
import { integerText, restIdSchema, versionTextSchema } from './shared.js';
import { MONITORING_QUERY_ROUTES } from './monitoring-queries.js';
import { TRAINING_ROUTES } from './training-routes.js';
import { MONITORING_ROUTES } from './monitoring-routes.js';
import { LOOP_ROUTES } from './loop-routes.js';
import {
  liveErrorQuerySchema,
  liveErrorResponseSchema,
  telemetryQuerySchema,
  telemetryResponseSchema,
} from './telemetry.js';

const anyId = z.string().min(1).max(256);
const byId = z.object({ id: anyId });
const byDevice = z.object({ id: restIdSchema });
const byVersion = z.object({ name: restIdSchema, version: versionTextSchema });
const bytes = (description: string) => ({ raw: 'application/octet-stream', description });

export const REST_ROUTES = {
  // server
  health: route({
    method: 'GET',
    path: '/api/v1/health',
    tag: 'server',
    summary: 'Liveness, versions and the root public key devices trust',
    auth: 'public',
    responses: { 200: healthResponseSchema },
  }),
  openApi: route({
    method: 'GET',
    path: '/api/v1/openapi.json',
    tag: 'server',
    summary: 'This document',
    auth: 'public',
    responses: { 200: openApiDocumentSchema },
  }),
  metrics: route({
    method: 'GET',
    path: '/metrics',
    tag: 'server',
    summary: 'Prometheus counters: embedded broker refusals by reason, connections, pending connections',
    auth: 'admin',
    responses: { 200: { raw: 'text/plain', description: 'Prometheus text format 0.0.4' } },
  }),

  // identity
  enroll: route({
    method: 'POST',
    path: '/api/v1/enroll',
    tag: 'identity',
    summary: 'A device trades an enrollment token for its credentials',
    auth: 'public',
    body: enrollRequestSchema,
    responses: { 200: enrollResponseSchema },
    errors: [401, 403, 409],
  }),
  createEnrollmentToken: route({
    method: 'POST',
    path: '/api/v1/enrollment-tokens',
    tag: 'identity',
    summary: 'Create an enrollment token (plaintext shown once)',
    auth: 'admin',
    role: 'admin',
    body: enrollmentTokenRequestSchema,
    bodyOptional: true,
    responses: { 201: createdEnrollmentTokenSchema },
  }),
  listEnrollmentTokens: route({
    method: 'GET',
    path: '/api/v1/enrollment-tokens',
    tag: 'identity',
    summary: 'List enrollment tokens (no secrets)',
    auth: 'admin',
    responses: { 200: enrollmentTokenListResponseSchema },
  }),
  revokeEnrollmentToken: route({
    method: 'POST',
    path: '/api/v1/enrollment-tokens/{id}/revoke',
    tag: 'identity',
    summary: 'Revoke an enrollment token',
    auth: 'admin',
    role: 'admin',
    params: byId,
    responses: { 200: enrollmentTokenResponseSchema },
    errors: [409],
  }),
  createAdminToken: route({
    method: 'POST',
    path: '/api/v1/admin-tokens',
    tag: 'identity',
    summary: 'Create an admin token (plaintext shown once)',
    auth: 'admin',
    role: 'admin',
    body: adminTokenRequestSchema,
    responses: { 201: createdAdminTokenSchema },
  }),
  listAdminTokens: route({
    method: 'GET',
    path: '/api/v1/admin-tokens',
    tag: 'identity',
    summary: 'List admin tokens (no secrets)',
    auth: 'admin',
    responses: { 200: adminTokenListResponseSchema },
  }),
  revokeAdminToken: route({
    method: 'POST',
    path: '/api/v1/admin-tokens/{id}/revoke',
    tag: 'identity',
    summary: 'Revoke an admin token (not the last active one)',
    auth: 'admin',
    role: 'admin',
    params: byId,
    responses: { 200: adminTokenResponseSchema },
    errors: [409],
  }),

  // sessions (the console's login; rest/sessions.ts)
  createSession: route({
    method: 'POST',
    path: '/api/v1/sessions',
    tag: 'sessions',
    summary: 'Log in with an admin token: sets the HttpOnly session cookie, answers the CSRF token',
    auth: 'public',
    body: sessionRequestSchema,
    responses: { 201: sessionResponseSchema },
    errors: [401, 429],
  }),
  getSession: route({
    method: 'GET',
    path: '/api/v1/sessions/current',
    tag: 'sessions',
    summary: "The caller's session (by its cookie): name, role, CSRF token, expiry (404 for a bearer token)",
    auth: 'admin',
    responses: { 200: sessionResponseSchema },
    errors: [404],
  }),
  deleteSession: route({
    method: 'DELETE',
    path: '/api/v1/sessions/current',
    tag: 'sessions',
    summary: 'Log out: ends the session and expires its cookie',
    auth: 'admin',
    role: 'viewer',
    responses: { 204: { raw: '', description: 'the session ended; no body' } },
    errors: [404],
  }),

  // devices
  listDevices: route({
    method: 'GET',
    path: '/api/v1/devices',
    tag: 'devices',
    summary:
      'Devices, filtered (group, tags, online, hardware, agent version, model version, id search), sorted and, with limit, a page at a time',
    auth: 'admin',
    query: deviceListQuerySchema,
    responses: { 200: deviceListResponseSchema },
  }),
  getDeviceFacets: route({
    method: 'GET',
    path: '/api/v1/devices/facets',
    tag: 'devices',
    summary:
      "What the device list's filters can choose from: groups, hardware, agent versions, model versions, with counts",
    auth: 'admin',
    responses: { 200: deviceFacetsResponseSchema },
  }),
  getDevice: route({
    method: 'GET',
    path: '/api/v1/devices/{id}',
    tag: 'devices',
    summary: 'One device with its events and desired state',
    auth: 'admin',
    params: byDevice,
    responses: { 200: deviceDetailSchema },
  }),
  setDeviceLabels: route({
    method: 'PUT',
    path: '/api/v1/devices/{id}',
    tag: 'devices',
    summary: 'Set group (null clears) and/or tags (replace)',
    auth: 'admin',
    params: byDevice,
    body: deviceLabelsRequestSchema,
    responses: { 200: deviceResponseSchema },
  }),
  disableDevice: route({
    method: 'POST',
    path: '/api/v1/devices/{id}/disable',
    tag: 'devices',
    summary: 'Disable a device: its broker sessions close, it cannot connect or enroll',
    auth: 'admin',
    role: 'admin',
    params: byDevice,
    responses: { 200: deviceResponseSchema },
  }),
  enableDevice: route({
    method: 'POST',
    path: '/api/v1/devices/{id}/enable',
    tag: 'devices',
    summary: 'Enable a disabled device again',
    auth: 'admin',
    role: 'admin',
    params: byDevice,
    responses: { 200: deviceResponseSchema },
  }),
  revokeDeviceCredential: route({
    method: 'POST',
    path: '/api/v1/devices/{id}/revoke',
    tag: 'devices',
    summary: 'Delete the device credential (it must enroll again)',
    auth: 'admin',
    role: 'admin',
    params: byDevice,
    responses: { 200: credentialRevokedResponseSchema },
    errors: [409],
  }),
  deploy: route({
    method: 'POST',
    path: '/api/v1/deployments',
    tag: 'devices',
    summary: 'Assign a model version to devices directly (role shadow: run beside the serving version, never answer)',
    auth: 'admin',
    body: deploymentRequestSchema,
    responses: { 200: deploymentResponseSchema },
    errors: [404, 409],
  }),
  removeShadow: route({
    method: 'DELETE',
    path: '/api/v1/deployments/shadow/{model}',
    tag: 'devices',
    summary: 'Stop a shadow model on these devices (the serving assignment is untouched)',
    auth: 'admin',
    params: z.object({ model: restIdSchema }),
    body: removeShadowRequestSchema,
    responses: { 200: removeShadowResponseSchema },
  }),

  // samples
  startSampleCapture: route({
    method: 'POST',
    path: '/api/v1/devices/{id}/samples/capture',
    tag: 'samples',
    auth: 'admin',
    summary:
      'Ask a device to keep (and upload) its inputs for N minutes, whatever its local policies; honoured only where sampling.captureOnRequest is on',
    params: byDevice,
    body: sampleCaptureRequestSchema,
    bodyOptional: true,
    responses: { 200: sampleCaptureResponseSchema },
  }),
  stopSampleCapture: route({
    method: 'DELETE',
    path: '/api/v1/devices/{id}/samples/capture',
    tag: 'samples',
    summary: "Close a device's capture window early (what it kept still uploads)",
    auth: 'admin',
    params: byDevice,
    responses: { 200: sampleCaptureStopResponseSchema },
  }),
  requestSamples: route({
    method: 'POST',
    path: '/api/v1/devices/{id}/samples/request',
    tag: 'samples',
    summary: 'Ask a device to upload kept samples for N minutes',
    auth: 'admin',
    params: byDevice,
    body: sampleUploadRequestSchema,
    bodyOptional: true,
    responses: { 200: sampleUploadResponseSchema },
  }),
  listSamples: route({
    method: 'GET',
    path: '/api/v1/samples',
    tag: 'samples',
    summary: 'Inputs devices kept for retraining',
    auth: 'admin',
    query: sampleListQuerySchema,
    responses: { 200: sampleListResponseSchema },
  }),
  getSampleContent: route({
    method: 'GET',
    path: '/api/v1/samples/{id}/content',
    tag: 'samples',
    summary: 'The bytes of one sample',
    auth: 'admin',
    params: z.object({ id: integerText(1) }),
    responses: { 200: { raw: '*/*', description: 'the raw input, with its content type' } },
  }),

  // datasets (rest/dataset-routes.ts)
  ...DATASET_ROUTES,

  // telemetry
  listTelemetry: route({
    method: 'GET',
    path: '/api/v1/telemetry',
    tag: 'telemetry',
    summary: 'Synced predictions (with reference values where joined)',
    auth: 'admin',
    query: telemetryQuerySchema,
    responses: { 200: telemetryResponseSchema },
  }),
  liveError: route({
    method: 'GET',
    path: '/api/v1/telemetry/error',
    tag: 'telemetry',
    summary: 'Live error vs reference values per version, served and shadow',
    auth: 'admin',
    query: liveErrorQuerySchema,
    responses: { 200: liveErrorResponseSchema },
  }),

  // models
  pushModel: route({
    method: 'POST',
    path: '/api/v1/models',
    tag: 'models',
    summary: 'Register (push) a model version: ONNX file + optional metadata; signs its manifest',
    auth: 'admin',
    body: { multipart: modelUploadSchema },
    responses: { 201: modelResponseSchema },
    errors: [409, 415],
  }),
  listModels: route({
    method: 'GET',
    path: '/api/v1/models',
    tag: 'models',
    summary: 'Every model version',
    auth: 'admin',
    responses: { 200: modelListResponseSchema },
  }),
  getModelVersion: route({
    method: 'GET',
    path: '/api/v1/models/{name}/versions/{version}',
    tag: 'models',
    summary: 'One version with its signed envelope, training summary and ancestry',
    auth: 'admin',
    params: byVersion,
    responses: { 200: modelDetailSchema },
  }),
  setModelStatus: route({
    method: 'PUT',
    path: '/api/v1/models/{name}/versions/{version}/status',
    tag: 'models',
    summary: 'Approve, deprecate or revoke a version (revoking removes it from every device)',
    auth: 'admin',
    params: byVersion,
    body: statusChangeSchema,
    responses: { 200: statusChangeResponseSchema },
    errors: [409],
  }),
  getLineage: route({
    method: 'GET',
    path: '/api/v1/models/{name}/lineage',
    tag: 'models',
    summary: 'Every version of a model, newest first, with parent links',
    auth: 'admin',
    params: z.object({ name: restIdSchema }),
    responses: { 200: lineageResponseSchema },
  }),
  downloadArtifact: route({
    method: 'GET',
    path: '/api/v1/artifacts/{sha256}',
    tag: 'models',
    auth: 'device-or-admin',
    summary:
      'Download an artifact (one Range: bytes=a-b honoured); a device gets only artifacts assigned to it, queued under the concurrent-download cap',
    params: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters') }),
    responses: {
      200: bytes('the whole artifact'),
      206: { ...bytes('the requested byte range'), headers: ['content-range'] },
    },
    errors: [403, 416],
  }),

  // keys
  getKeys: route({
    method: 'GET',
    path: '/api/v1/keys',
    tag: 'keys',
    summary: 'Root key, signing key, keyset, pending rotation, retired keys',
    auth: 'admin',
    responses: { 200: keysResponseSchema },
  }),
  rotateKeys: route({
    method: 'POST',
    path: '/api/v1/keys/rotate',
    tag: 'keys',
    summary: 'Rotate the signing key (202 with a keyset to sign when the root is offline)',
    auth: 'admin',
    role: 'admin',
    responses: { 200: rotateResponseSchema, 202: rotateResponseSchema },
    errors: [409],
  }),
  uploadKeyset: route({
    method: 'POST',
    path: '/api/v1/keys/keyset',
    tag: 'keys',
    summary: 'Upload the pending keyset signed by the offline root key',
    auth: 'admin',
    role: 'admin',
    body: keysetUploadSchema,
    responses: { 200: rotateResponseSchema },
    errors: [409],
  }),

  // rollouts
  createRollout: route({
    method: 'POST',
    path: '/api/v1/rollouts',
    tag: 'rollouts',
    summary: 'Start a rollout: direct, staged waves, canary, A/B or shadow, with health gates',
    auth: 'admin',
    body: createRolloutSchema,
    responses: { 201: rolloutResponseSchema },
    errors: [404, 409],
  }),
  previewRollout: route({
    method: 'POST',
    path: '/api/v1/rollouts/preview',
    tag: 'rollouts',
    summary: 'The waves a rollout would start with and the devices each gets, creating nothing (same body as create)',
    auth: 'admin',
    body: createRolloutSchema,
    responses: { 200: rolloutPreviewSchema },
    errors: [404, 409],
  }),
  listRollouts: route({
    method: 'GET',
    path: '/api/v1/rollouts',
    tag: 'rollouts',
    summary: 'Rollouts, newest first',
    auth: 'admin',
    query: rolloutListQuerySchema,
    responses: { 200: rolloutListResponseSchema },
  }),
  getRollout: route({
    method: 'GET',
    path: '/api/v1/rollouts/{id}',
    tag: 'rollouts',
    summary: 'Progress: counts per state and wave, gate readings, live error per arm',
    auth: 'admin',
    params: byId,
    responses: { 200: rolloutDetailSchema },
  }),
  rolloutAction: route({
    method: 'POST',
    path: '/api/v1/rollouts/{id}/{verb}',
    tag: 'rollouts',
    summary: 'Pause, resume, abort, roll back or promote a rollout',
    auth: 'admin',
    params: z.object({ id: anyId, verb: z.enum(ROLLOUT_ACTIONS) }),
    body: rolloutActionRequestSchema,
    bodyOptional: true,
    responses: { 200: rolloutResponseSchema },
    errors: [409],
  }),

  ...TRAINING_ROUTES,
  ...MONITORING_ROUTES,

  ...MONITORING_QUERY_ROUTES,

  ...LOOP_ROUTES,

  // audit
  listAudit: route({
    method: 'GET',
    path: '/api/v1/audit',
    tag: 'audit',
    summary: 'Who changed what, newest first (action matches a verb or a whole area)',
    auth: 'admin',
    query: auditQuerySchema,
    responses: { 200: auditResponseSchema },
  }),
} as const satisfies Record<string, RouteSpec>;

export type RestRoutes = typeof REST_ROUTES;
export type RouteName = keyof RestRoutes;
export const ROUTE_NAMES = Object.keys(REST_ROUTES) as RouteName[];
