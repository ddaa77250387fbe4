/**
 * @module running-server
 * What startFleetServer hands back (the running server's parts, for the CLI, tests and
 * embedders) and what it may be given besides its settings.
 */
import type { LoopEngine } from './loop/loop-engine.js';
import type { ContractViolation } from './api/response-contract.js';
import type { AuditLog } from './audit/audit-log.js';
import type { EmbeddedBroker } from './broker/embedded-broker.js';
import type { MosquittoSync } from './broker/mosquitto-sync.js';
import type { DatasetService } from './datasets/dataset-service.js';
import type { Deployments } from './deploy/deployments.js';
import type { DeviceDirectory } from './devices/device-directory.js';
import type { IdentityService } from './identity/identity-service.js';
import type { TelemetryIngestStats } from './ingest/telemetry-ingest.js';
import type { KeyManager } from './keys/key-manager.js';
import type { KeyRotation } from './keys/rotation.js';
import type { ExpiryResigner } from './registry/expiry-resigner.js';
import type { ModelRegistry } from './registry/model-registry.js';
import type { Monitoring } from './monitoring/monitoring-service.js';
import type { RolloutEngine } from './rollouts/rollout-engine.js';
import type { FleetStore, ModelVersionRepository, TelemetryRepository } from './store/fleet-store.js';
import type { DatasetSource } from './training/dataset-source.js';
import type { TrainingService } from './training/training-service.js';
import type { TransferService } from './transfer/transfer-service.js';

export interface RunningFleetServer {
  httpUrl: string;
  mqttUrl: string;
  /** The root public key: what devices list in fleet.trustedKeys. */
  publicKey: string;
  /** The signing key active at start (rotations change it; keys.view() is current). */
  keyId: string;
  rootKeyId: string;
  keys: KeyManager;
  rotation: KeyRotation;
  /** Re-signs assigned manifests before they expire (runs on a timer; runOnce for tests). */
  resigner: ExpiryResigner;
  /** The fleet store (every table, behind its repositories). */
  store: FleetStore;
  /** Where the store lives: the SQLite file, or the database URL without its password. */
  storeLocation: string;
  models: ModelVersionRepository;
  /** Publishes as the fleet server (attack tests replay captured or forged messages through it). */
  publish(topic: string, payload: Buffer, retain?: boolean): Promise<void>;
  registry: ModelRegistry;
  deployments: Deployments;
  devices: DeviceDirectory;
  telemetry: TelemetryRepository;
  /** Dataset snapshots: made from samples, imported, exported as the folder a trainer reads. */
  datasets: DatasetService;
  stats: TelemetryIngestStats;
  /** Artifact delivery: download slots, bytes per device, the MQTT chunk handler. */
  transfer: TransferService;
  /** Set when the server keeps an external Mosquitto's password/ACL files (mqtt.mosquitto). */
  mosquitto?: MosquittoSync;
  /** Enrollment, device credentials, admin tokens; emits credential/device events. */
  identity: IdentityService;
  audit: AuditLog;
  /** The bootstrap admin token when known (configured, or still the one in adminTokenFile). */
  adminToken?: string;
  /** <dataDir>/admin.token: where a generated bootstrap admin token is written. */
  adminTokenFile: string;
  /** The embedded broker (refusal counters), unless an external one is used. */
  broker?: EmbeddedBroker;
  /** Staged/canary/ab/shadow rollouts with health gates (rollouts/rollout-engine.ts). */
  rollouts: RolloutEngine;
  /** Training jobs and runs (training/training-service.ts). */
  training: TrainingService;
  /** Rules, alerts, incidents; `monitoring.events` carries `monitoring.alert` / `monitoring.incident`. */
  monitoring: Monitoring;
  /** The retraining loop (runs while this server leads). */
  loop: LoopEngine;
  /** With TLS: the CA devices pin (file and `sha256:` fingerprint of its public key). */
  tls?: { caFile: string; caFingerprint: string };
  /** With validateResponses: every API answer that broke the REST contract (each was answered 500). */
  contractViolations: readonly ContractViolation[];
  close(): Promise<void>;
}

/** What a server is built with beyond its settings. */
export interface FleetServerParts {
  /** Dataset snapshots training reads and lineage names (none: no training data, dataset ids refused). */
  datasets?: DatasetSource;
  /**
   * The rule engine's clock (data time; default Date.now). The simulator compresses time: its
   * records carry simulated timestamps, and rule windows must end at the simulated now.
   */
  monitoringNow?: () => number;
}
