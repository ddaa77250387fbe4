/**
 * @module rest
 * Shapes of the fleet server's REST API responses: the contract the `edgeloop` CLI and the
 * browser console read, and the server's views must produce.
 */
import type { RunningModel } from './messages.js';
import type { Postprocessing, Preprocessing, TensorSpec } from './tensors.js';

export interface AssignmentStatus {
  model: string;
  version: number;
  /** assigned, then whatever the device last reported: downloading, verified, active, rejected, failed, removed. */
  state: string;
  code: string | null;
  reason: string | null;
  updatedAt: number;
}

export interface DeviceSummary {
  id: string;
  online: boolean;
  lastSeen: number | null;
  firstSeen: number;
  session: number;
  agentVersion: string | null;
  arch: string | null;
  platform: string | null;
  hardware: string | null;
  runtime: { name: string; version: string } | null;
  stream: string | null;
  /** What the device runs, as it last said. */
  models: RunningModel[];
  /** What the fleet wants it to run, and how far it got. */
  assignments: AssignmentStatus[];
  backlog: number;
  /** Records the device dropped (buffer cap), as it last reported. */
  dropped: number;
  records: number;
  /** Artifact bytes the fleet sent this device (HTTP and MQTT), a running total. */
  bytesSent: number;
  /** Candidate versions running beside the serving one (role shadow), and how far each got. */
  shadows: AssignmentStatus[];
  /** Operator-assigned group (e.g. a site), or null. Rollouts select devices by it. */
  group: string | null;
  /** Operator-assigned labels, e.g. {"site": "plant-1", "hw": "pi4"}. */
  tags: Record<string, string>;
  /** A disabled device cannot connect to the embedded broker or re-enroll. */
  disabled: boolean;
}

export interface TelemetryRow {
  id: number;
  deviceId: string;
  stream: string;
  seq: number;
  ts: number;
  receivedAt: number;
  model: string;
  version: number;
  requestId: string | null;
  output: number[];
  prediction: number | null;
  latencyMs: number;
  features: Record<string, number>;
  reference: number | null;
  /** Made while the device was offline, forwarded after the outage. */
  historical: boolean;
  /** Made by a shadow model beside the serving one; the device never answered with it. */
  shadow: boolean;
}

/** Live error of one model version against reference values (records with both a prediction and a reference). */
export interface LiveError {
  model: string;
  version: number;
  /** Whether these are the version's shadow records (it ran beside another version) or served ones. */
  shadow: boolean;
  /** Records with a prediction and a reference. */
  n: number;
  /** Mean absolute error and root mean squared error, in the model's output unit; null when n = 0. */
  mae: number | null;
  rmse: number | null;
}

export interface ModelVersionSummary {
  name: string;
  version: number;
  sha256: string;
  size: number;
  createdAt: string;
  expiresAt: string;
  keyId: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  preprocessing: Preprocessing;
  postprocessing: Postprocessing;
  targets: { arch: string[]; hardware: string[] };
  /** registered → approved | deprecated | revoked (final). Revoked versions are on no device. */
  status: ModelStatus;
  statusReason: string | null;
  description: string | null;
  /** Free-form key → value tags (team, dataset, use case…). */
  labels: Record<string, string>;
  /** Evaluation metrics the uploader reported, e.g. {"mae_mm": 12.5}. */
  metrics: Record<string, number>;
  lineage: ModelLineage;
  /** Whether a training-data summary (drift baseline) is stored; fetched with the version. */
  hasTrainingSummary: boolean;
}

export const MODEL_STATUSES = ['registered', 'approved', 'deprecated', 'revoked'] as const;
export type ModelStatus = (typeof MODEL_STATUSES)[number];

/** Where a version came from. `parent` is an earlier version of the same model name. */
export interface ModelLineage {
  parent?: number;
  datasetId?: string;
  trainingRunId?: string;
  /** Why it was made, e.g. "manual", "drift", "schedule", "rollback". */
  trigger?: string;
  notes?: string;
}

/** GET /api/v1/models/{name}/lineage: every version, newest first, with its parent link. */
export interface LineageResponse {
  name: string;
  versions: Array<{ version: number; sha256: string; createdAt: number; status: ModelStatus; lineage: ModelLineage }>;
}

/** GET /api/v1/keys: the trust chain as the server holds it. */
export interface KeysResponse {
  /** Root keys (what devices list in fleet.trustedKeys); `local` = the private half is on this server. */
  root: { keyId: string; publicKey: string; local: boolean };
  /** The key that signs manifests now, if any (none before an offline root signed the first keyset). */
  signingKey: { keyId: string; publicKey: string; activatedAt: number | null } | null;
  /** A key waiting for its keyset to be signed by the offline root. */
  pending: PendingKeyset | null;
  keyset: { version: number; keyIds: string[]; created: string } | null;
  retired: Array<{ keyId: string; retiredAt: number | null }>;
}

/** An unsigned keyset for the offline root: sign `payload` (base64) with payloadType, POST the envelope. */
export interface PendingKeyset {
  keyId: string;
  version: number;
  payloadType: string;
  payload: string;
}

/** POST /api/v1/keys/rotate and /api/v1/keys/keyset. */
export interface RotateResponse {
  /** done: the new key is active; pending: sign `pending` with the offline root key. */
  state: 'done' | 'pending';
  pending?: PendingKeyset;
  keyset?: { version: number; keyIds: string[] };
  /** Manifests re-signed with the new key and devices whose desired state was republished. */
  resigned?: number;
  devices?: number;
}

export interface HealthResponse {
  status: 'ok';
  version: string;
  mqttUrl: string;
  /** The active manifest signing key (same as signingKeyId; kept for older clients). */
  keyId: string;
  /** The fleet's root public key: what devices put in fleet.trustedKeys. */
  publicKey: string;
  rootKeyId?: string;
  /** null while an offline root has not signed the first keyset. */
  signingKeyId?: string | null;
  keysetVersion?: number;
}

/** A raw input a device kept for retraining (GET /api/v1/samples; bytes at /api/v1/samples/{id}/content). */
export interface SampleSummary {
  id: number;
  deviceId: string;
  stream: string;
  seq: number;
  model: string;
  version: number;
  ts: number;
  reason: string;
  prediction: number | null;
  reference: number | null;
  contentType: string;
  sha256: string;
  bytes: number;
  receivedAt: number;
}

/** POST /api/v1/enroll: a device trades an enrollment token for its credentials (no admin token needed). */
export interface EnrollRequest {
  token: string;
  deviceId: string;
  arch?: string;
  hardware?: string;
}

/** What the device writes into its config: broker login, where to download, which keys to trust. */
export interface EnrollResponse {
  deviceId: string;
  /** MQTT username (= deviceId); also the HTTP Basic user for artifact downloads. */
  username: string;
  /** Shown once; the server keeps only a hash. Re-enrolling issues a new one. */
  password: string;
  mqttUrl: string;
  httpUrl: string;
  trustedKeys: string[];
}

export interface EnrollmentTokenSummary {
  id: string;
  uses: number;
  usesLeft: number;
  expiresAt: number;
  group: string | null;
  tags: Record<string, string>;
  createdAt: number;
  createdBy: string;
  revokedAt: number | null;
  status: 'active' | 'used-up' | 'expired' | 'revoked';
}

/** Answer of POST /api/v1/enrollment-tokens: the plaintext token appears here only. */
export interface CreatedEnrollmentToken {
  token: string;
  enrollmentToken: EnrollmentTokenSummary;
  /** With TLS: `sha256:<hex>` of the CA's public key, for `edgeloop-agent enroll --ca-fingerprint`. */
  caFingerprint?: string;
}

export interface AdminTokenSummary {
  id: string;
  /** Recorded as the actor in the audit log. */
  name: string;
  createdAt: number;
  createdBy: string;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** Answer of POST /api/v1/admin-tokens {name}: the plaintext token appears here only. */
export interface CreatedAdminToken {
  token: string;
  adminToken: AdminTokenSummary;
}

/** PUT /api/v1/devices/{id}: tags replace the device's whole tag set; group null clears it. */
export interface DeviceLabelsRequest {
  group?: string | null;
  tags?: Record<string, string>;
}

/** GET /api/v1/audit?actor=&action=&target=&limit=&before= (newest first). */
export interface AuditEntrySummary {
  id: number;
  ts: number;
  /** Admin token name, `device:<id>`, or `system`. */
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, unknown>;
}
