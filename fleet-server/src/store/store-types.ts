/**
 * @module store/store-types
 * Rows as the repositories hand them out: camelCase, flags as booleans, JSON columns parsed.
 * JSON the store does not interpret (rollout plans and parameters) stays `unknown` here; the
 * feature that owns its meaning checks it (rollouts/rollout-store.ts).
 */
import type {
  Manifest,
  ModelLineage,
  ModelStatus,
  RunningModel,
  SignedEnvelope,
  TrainerMetrics,
  TrainerParams,
  TrainingSummary,
} from '@edgeloop/protocol';
import type {
  ModelMetadata,
  RegisterRunRequest,
  RunProgress,
  TrainingJobStatus,
  TrainingRunStatus,
} from '@edgeloop/protocol/rest';

/** What a device said about itself in its birth (or at enrollment: arch and hardware only). */
export interface DeviceInfo {
  agentVersion?: string;
  arch?: string | null;
  platform?: string;
  hardware?: string | null;
  runtime?: { name: string; version: string };
  cpus?: number;
  memTotalMb?: number;
  stream?: string;
}

export interface DeviceRecord {
  id: string;
  firstSeen: number;
  lastSeen: number | null;
  online: boolean;
  session: number;
  info: DeviceInfo;
  running: RunningModel[];
  backlog: number;
  dropped: number;
  records: number;
  bytesSent: number;
  group: string | null;
  tags: Record<string, string>;
  disabled: boolean;
}

export interface ModelMetadataColumns {
  description: string | null;
  labels: Record<string, string>;
  metrics: Record<string, number>;
  trainingSummary: TrainingSummary | null;
  lineage: ModelLineage;
}

export interface ModelVersionRecord extends ModelMetadataColumns {
  name: string;
  version: number;
  sha256: string;
  size: number;
  envelope: SignedEnvelope;
  manifest: Manifest;
  keyId: string;
  createdAt: number;
  status: ModelStatus;
  statusReason: string | null;
  statusAt: number | null;
  /** Last time the manifest was re-signed (expiry or key rotation); null = as registered. */
  resignedAt: number | null;
}

export type NewModelVersion = Omit<ModelVersionRecord, 'status' | 'statusReason' | 'statusAt' | 'resignedAt'>;

export type SigningKeyState = 'pending' | 'active' | 'retired';

export interface SigningKeyRecord {
  keyId: string;
  publicKey: string;
  state: SigningKeyState;
  createdAt: number;
  activatedAt: number | null;
  retiredAt: number | null;
  /** Base64 keyset payload waiting for the root's signature (pending keys only). */
  pendingKeyset: string | null;
}

export interface KeysetRecord {
  version: number;
  envelope: SignedEnvelope;
  createdAt: number;
}

export interface RolloutRecord {
  id: string;
  model: string;
  version: number;
  baselineVersion: number | null;
  strategy: string;
  role: 'serve' | 'shadow';
  target: unknown;
  params: unknown;
  waves: unknown;
  state: string;
  reason: string | null;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
  currentWave: number;
  holding: boolean;
  promotedAt: number | null;
  judgedSince: number;
  rollbackVersions: Record<string, number>;
}

export interface RolloutDeviceRecord {
  rolloutId: string;
  deviceId: string;
  wave: number;
  position: number;
  state: string;
  previousVersion: number | null;
  assignedAt: number | null;
  stateAt: number;
  times: Record<string, number>;
  reason: string | null;
  acknowledged: boolean;
}

export interface BrokerUser {
  deviceId: string;
  /** Mosquitto's `$7$` hash of the device's broker password (never the password). */
  passwordHash: string;
  /** From `devices` (or no device row any more): not in the broker's password file. */
  disabled: boolean;
}

/** A training job: one trainer over one dataset with a sweep of parameter sets. */
export interface TrainingJobRecord {
  id: string;
  datasetId: string;
  trainer: string;
  /** The sweep as submitted (checked by training/sweep.ts). */
  sweep: unknown;
  metric: string;
  goal: 'min' | 'max';
  parallel: number;
  timeoutMs: number;
  status: TrainingJobStatus;
  error: string | null;
  bestRunId: string | null;
  register: RegisterRunRequest | null;
  registered: { name: string; version: number } | null;
  createdAt: number;
  createdBy: string;
  startedAt: number | null;
  finishedAt: number | null;
}

/** One parameter set of a job, trained once. */
export interface TrainingRunRecord {
  id: string;
  jobId: string;
  position: number;
  datasetId: string;
  trainer: string;
  params: TrainerParams;
  seed: number;
  status: TrainingRunStatus;
  metrics: TrainerMetrics | null;
  error: string | null;
  exitCode: number | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  durationMs: number | null;
  log: string;
  /** model.onnx in the artifact store. */
  modelSha256: string | null;
  modelSize: number | null;
  baseline: TrainingSummary | null;
  meta: ModelMetadata | null;
  progress: RunProgress | null;
}
