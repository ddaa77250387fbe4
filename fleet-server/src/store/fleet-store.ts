/**
 * @module store/fleet-store
 * The fleet server's one store boundary: a repository per area and a unit of work. Nothing
 * outside store/ sees SQL, a driver or a dialect; SQLite (store/sqlite/) and PostgreSQL implement
 * the same interface and pass the same contract suite (store/store-suite.ts).
 *
 * Every table has exactly one owning repository, the only code that writes it:
 *
 *   devices, device_models devices          presence, labels, counters, sample requests, bytes sent,
 *                                           what each runs (JSON and rows)
 *   assignments            assignments      serving assignment per (device, model)
 *   shadow_assignments     shadows          candidate run beside the serving one
 *   update_events          updateEvents     history of devices' update reports
 *   model_versions         models           registered versions, manifests, status, lineage
 *   telemetry, pending_references  telemetry  records and late reference values
 *   samples                samples          retraining samples (metadata; bytes are files)
 *   datasets, dataset_items  datasets      immutable dataset snapshots and their items
 *   audit_log              audit
 *   device_credentials     credentials
 *   broker_users, broker_users_revision  brokerUsers  Mosquitto hashes of devices' broker passwords
 *   enrollment_tokens      enrollmentTokens
 *   admin_tokens           adminTokens
 *   console_sessions       consoleSessions  browser sessions of the console (sha256 of the id only)
 *   signing_keys, keysets  keys
 *   rollouts, rollout_devices  rollouts
 *   transfer_bytes         transfers
 *   training_jobs, training_runs  training  training jobs, their runs, metrics, logs, artifacts
 *   rollups                rollups          monitoring rollups per version, role, scope and window
 *   monitoring_*           monitoring       rules, rule states, alerts, incidents, webhook deliveries
 *   loop_policies, loop_runs  loop          retraining loop policies and runs
 *
 * Methods are async. A method that writes several rows is atomic by itself; several calls become
 * one atomic step through `transaction`. Numbers come back as numbers (never bigint or string).
 *
 * A database plugs in by building a KyselyFleetStore (store/kysely-fleet-store.ts) over its Kysely
 * dialect with its SqlDialect and, optionally, a faster TelemetryWriter — store/sqlite/
 * open-sqlite-store.ts is the SQLite one — and by a branch in openFleetStore
 * (store/open-fleet-store.ts). Its schema must match store/schema.ts, and it must pass
 * runFleetStoreSuite (store/store-suite.ts).
 */
import type { ClusterCoordination } from './leader-lease.js';
import type { BlobNamespace, BlobStore } from './blobs/blob-store.js';
import type { DatasetRepository, DatasetSample, SampleSelection } from './dataset-store-types.js';
import type { RollupRepository } from './rollup-store-types.js';
import type {
  AdminRole,
  AdminTokenSummary,
  AssignmentStatus,
  AuditEntrySummary,
  Birth,
  RunningModel,
  SampleSummary,
  SignedEnvelope,
  TelemetryRecord,
  TelemetryRow,
} from '@edgeloop/protocol';
import type {
  BrokerUser,
  DeviceInfo,
  DeviceRecord,
  KeysetRecord,
  ModelVersionRecord,
  NewModelVersion,
  RolloutDeviceRecord,
  RolloutRecord,
  SigningKeyRecord,
  SigningKeyState,
} from './store-types.js';
import type { TrainingRepository } from './training-store-types.js';
import type { MonitoringRepository } from './monitoring-store-types.js';
import type { LoopRepository } from './loop-store-types.js';

export type * from './store-types.js';
export type * from './dataset-store-types.js';
export type * from './training-store-types.js';
export type * from './rollup-store-types.js';
export type * from './monitoring-store-types.js';
export type * from './loop-store-types.js';
export type { ChangeMarkRepository, ChangeTopic } from './repositories/change-marks.js';
import type { ChangeMarkRepository } from './repositories/change-marks.js';

/** Which devices a deployment or rollout targets. Criteria combine with AND; nothing given selects nothing. */
export interface DeviceSelector {
  /** Every device (narrowed by the other criteria when given). */
  all?: boolean;
  group?: string;
  /** Every listed tag must match exactly. */
  tags?: Record<string, string>;
  /** Explicit device ids. */
  devices?: readonly string[];
  /** Disabled devices are left out unless this is set: they cannot connect, so they would stall a wave. */
  includeDisabled?: boolean;
}

export interface DeviceListFilter {
  group?: string;
  tags?: Record<string, string>;
  disabled?: boolean;
}

export type DeviceSortKey =
  'id' | 'lastSeen' | 'backlog' | 'dropped' | 'group' | 'hardware' | 'agentVersion' | 'version';

/** Where the previous page ended: its last device's sort value (as devices.page returned it) and id. */
export interface DevicePageCursor {
  key: string | number;
  id: string;
}

/** The console's device list: DeviceListFilter plus what an operator narrows, sorts and pages by. */
export interface DevicePageQuery extends DeviceListFilter {
  online?: boolean;
  /** Part of the id, matched literally (case-sensitive). */
  idContains?: string;
  hardware?: string;
  agentVersion?: string;
  /** Devices running or assigned (serving) this model, of that version when given; `of` narrows to one side. */
  model?: { name: string; version?: number; of?: 'running' | 'assigned' };
  /** Default id. `version` sorts by the running version of `model.name`, or the highest running version. */
  sort?: DeviceSortKey;
  order?: 'asc' | 'desc';
  /** At most this many devices; none: every matching device. */
  limit?: number;
  /** Only devices after this one in the sort order. */
  after?: DevicePageCursor;
}

export interface DevicePage {
  devices: DeviceRecord[];
  /** Devices matching the filters (every page, not only this one). */
  total: number;
  /** Where the next page starts; null when this one holds the last matching device. */
  next: DevicePageCursor | null;
}

/** Distinct values of the device list's filter columns, with how many devices have each. */
export interface DeviceFacetCounts {
  total: number;
  online: number;
  disabled: number;
  groups: Array<{ value: string | null; count: number }>;
  hardware: Array<{ value: string | null; count: number }>;
  agentVersions: Array<{ value: string | null; count: number }>;
  /** Running model versions, by model then version. */
  running: Array<{ model: string; version: number; count: number }>;
}

export interface DeviceRepository {
  /** A birth message: the device is online with that session and runs exactly what it lists; `dropped` never goes down. */
  recordBirth(birth: Birth, now?: number): Promise<void>;
  /** Offline, unless a newer session started since (a late will); false when nothing changed. */
  recordDeath(deviceId: string, session: number): Promise<boolean>;
  /** After stored telemetry: last seen, backlog (if given), records added, dropped (never down). */
  touch(
    deviceId: string,
    backlog: number | undefined,
    addedRecords: number,
    dropped?: number,
    now?: number,
  ): Promise<void>;
  /** Makes the device known if it is not (telemetry before any birth); true when it was not. */
  ensure(deviceId: string, now?: number): Promise<boolean>;
  exists(deviceId: string): Promise<boolean>;
  get(deviceId: string): Promise<DeviceRecord | undefined>;
  /** The devices among `ids` that exist, by id. */
  getMany(ids: readonly string[]): Promise<Map<string, DeviceRecord>>;
  list(filter?: DeviceListFilter): Promise<DeviceRecord[]>;
  /**
   * Filters, sorts (ties by id, ascending) and pages in SQL, with the count of every match.
   * Sort values that are unknown (never seen, no group, nothing running) sort first ascending,
   * identically on every database.
   */
  page(query: DevicePageQuery): Promise<DevicePage>;
  facets(): Promise<DeviceFacetCounts>;
  /** Device ids matching the selector, sorted by id (rollout waves are cut from this order). */
  select(sel: DeviceSelector): Promise<string[]>;
  /** Group and/or tags (tags replace the set); false if the device is unknown. */
  setLabels(deviceId: string, labels: { group?: string | null; tags?: Record<string, string> }): Promise<boolean>;
  setDisabled(deviceId: string, disabled: boolean): Promise<boolean>;
  isDisabled(deviceId: string): Promise<boolean>;
  /** Enrollment: known, not yet seen; keeps its group unless one is given; tags are merged in. */
  registerEnrolled(
    deviceId: string,
    labels: { group: string | null; tags: Record<string, string> },
    info?: Partial<Pick<DeviceInfo, 'arch' | 'hardware'>>,
    now?: number,
  ): Promise<void>;
  /** Replaces the entry of `model.name` in what the device runs. */
  setRunningModel(deviceId: string, model: RunningModel): Promise<void>;
  /** The session of the last birth and the report cursor (session, seq) last taken. */
  reportCursor(
    deviceId: string,
  ): Promise<{ session: number; reportSession: number | null; reportSeq: number } | undefined>;
  setReportCursor(deviceId: string, session: number, reportSeq: number): Promise<void>;
  /**
   * reportCursor, with the device's row locked until the surrounding transaction ends: a second
   * server taking a report of the same device waits here and then reads the cursor the first
   * one left, so two reports are never both judged against the same old cursor.
   */
  lockReportCursor(
    deviceId: string,
  ): Promise<{ session: number; reportSession: number | null; reportSeq: number } | undefined>;
  /** Above every counter issued before and never below `now`; throws for an unknown device. */
  nextDesiredCounter(deviceId: string, now?: number): Promise<number>;
  /** The counter issued last (0: none). */
  desiredCounter(deviceId: string): Promise<number>;
  addBytesSent(deviceId: string, bytes: number): Promise<void>;
  setSampleUploadUntil(deviceId: string, until: number): Promise<void>;
  /** The capture window as stored (JSON-parsed, unchecked), or null to clear it. */
  setSampleCapture(deviceId: string, capture: unknown): Promise<void>;
  sampleRequests(deviceId: string): Promise<{ uploadUntil: number | null; capture: unknown }>;
}

/** One repository per assignment table: `assignments` (serve) and `shadow_assignments`. */
export interface AssignmentRepository {
  /** Assigns the version (state "assigned", code and reason cleared), replacing the model's row. */
  set(deviceId: string, model: string, version: number, now?: number): Promise<void>;
  get(deviceId: string, model: string): Promise<AssignmentStatus | undefined>;
  listForDevice(deviceId: string): Promise<AssignmentStatus[]>;
  /** Every row of each listed device (by model), in one query per few hundred devices; devices without rows are absent. */
  listForDevices(deviceIds: readonly string[]): Promise<Map<string, AssignmentStatus[]>>;
  /** How many devices have each (model, version), by model then version. */
  versionCounts(): Promise<Array<{ model: string; version: number; count: number }>>;
  /** Each listed device's row for the model. */
  forDevices(model: string, deviceIds: readonly string[]): Promise<Map<string, AssignmentStatus>>;
  /** What the device reported about that exact version; false when there is no such row. */
  setReportedState(
    deviceId: string,
    model: string,
    version: number,
    report: { state: string; code: string | null; reason: string | null },
    now?: number,
  ): Promise<boolean>;
  /** Removes the device's row of the model (only of that version, when given). */
  remove(deviceId: string, model: string, version?: number): Promise<boolean>;
  /** Removes the version from every device; returns those devices, sorted. */
  removeVersion(model: string, version: number): Promise<string[]>;
  devicesWith(model: string, version: number): Promise<string[]>;
  versions(): Promise<Array<{ name: string; version: number }>>;
  devices(): Promise<string[]>;
}

export interface UpdateEvent {
  model: string;
  version: number;
  state: string;
  code: string | null;
  reason: string | null;
  session: number | null;
  reportSeq: number;
  ts: number;
  receivedAt: number;
}

/** Where a report sat in the device's outbox: (device, stream, id) names one report for good. */
export interface OutboxPosition {
  stream: string;
  id: number;
}

export interface UpdateEventRepository {
  /**
   * Stores the event; false, storing nothing, when an event of the same device and outbox
   * position is already stored (an event without a position is always stored).
   */
  append(deviceId: string, event: UpdateEvent, outbox?: OutboxPosition): Promise<boolean>;
  /** Whether the device's report at this outbox position is already stored. */
  hasOutboxReport(deviceId: string, outbox: OutboxPosition): Promise<boolean>;
  /** Newest first. */
  list(deviceId: string, limit?: number): Promise<UpdateEvent[]>;
}

export interface ModelVersionRepository {
  /** 0 when the name has no version. */
  latestVersion(name: string): Promise<number>;
  /** false when (name, version) exists already (two pushes raced). */
  insert(row: NewModelVersion): Promise<boolean>;
  get(name: string, version: number): Promise<ModelVersionRecord | undefined>;
  /** By name, newest version first. */
  list(): Promise<ModelVersionRecord[]>;
  versionsOf(name: string): Promise<ModelVersionRecord[]>;
  /** Versions whose artifact has this hash. */
  withArtifact(sha256: string): Promise<Array<{ name: string; version: number; size: number }>>;
  replaceEnvelope(
    name: string,
    version: number,
    envelope: SignedEnvelope,
    manifest: ModelVersionRecord['manifest'],
    keyId: string,
    now?: number,
  ): Promise<void>;
  setStatus(
    name: string,
    version: number,
    status: ModelVersionRecord['status'],
    reason: string | null,
    now?: number,
  ): Promise<void>;
}

export interface TelemetryQuery {
  device?: string;
  model?: string;
  version?: number;
  afterId?: number;
  limit?: number;
  /** Oldest first from afterId (paging) instead of the newest records. */
  order?: 'newest' | 'oldest';
  /** true: only shadow records; false: only served ones; absent: both. */
  shadow?: boolean;
}

/** Live error (rollups/live-error.ts reads it from the rollups). */
export interface LiveErrorQuery {
  model: string;
  version?: number;
  /** true: the version's shadow records; false: its served records; absent: each separately. */
  shadow?: boolean;
  /** Only these devices (e.g. a rollout wave). */
  devices?: readonly string[];
  /** Records made at or after this time (ms, device time; rounded down to the rollups' window). */
  since?: number;
}

/** How long a reference value waits for its record before it is dropped. */
export const PENDING_REFERENCE_TTL_MS = 7 * 86_400_000;

/** One device's telemetry batch as the ingest stores it (storeBatches). */
export interface IngestBatch {
  deviceId: string;
  stream: string;
  records: readonly TelemetryRecord[];
  historical: boolean;
  /** The device's backlog as the batch reports it; absent keeps the stored one. */
  backlog?: number;
  /** Records the device dropped so far; the stored count never goes down. */
  dropped?: number;
}

export interface StoredBatch {
  /** Records that were new (the rest were re-sends). */
  added: number;
  /** The device was not known before this batch (telemetry before any birth). */
  registered: boolean;
}

export interface TelemetryRepository {
  /**
   * The ingest's group commit: for each batch, in order, makes its device known (devices.ensure),
   * stores the records as insertBatch does and touches the device (devices.touch with the added
   * count) — all batches in one atomic step, in as few round trips as the database allows.
   * Either every batch is stored or none is. A device's batches keep their order; batches of
   * different devices may be written in another order (sorted, so two concurrent calls never
   * take the same rows' locks in opposite orders).
   */
  storeBatches(batches: readonly IngestBatch[], now?: number): Promise<StoredBatch[]>;
  /**
   * How many storeBatches calls may usefully run at once (each on its own connection): 1 where
   * the database has one writer (SQLite). Concurrent calls must not share a device.
   */
  readonly parallelWrites: number;
  /**
   * Stores the records that are new on (device, stream, seq) and returns how many were; re-sent
   * ones are skipped and keep their first receive time. A late reference value waiting for one of
   * these records (updateReferences) is applied in the same step.
   */
  insertBatch(
    deviceId: string,
    stream: string,
    records: readonly TelemetryRecord[],
    now?: number,
    historical?: boolean,
  ): Promise<number>;
  /**
   * Sets late reference values. A value for a record not stored yet waits (at most
   * PENDING_REFERENCE_TTL_MS: the record may never come, e.g. dropped by the device's buffer cap)
   * and is applied when it is; applying the same update again changes nothing. Returns how many
   * matched stored records and how many wait.
   */
  updateReferences(
    deviceId: string,
    stream: string,
    updates: ReadonlyArray<{ seq: number; reference: number }>,
    now?: number,
  ): Promise<{ applied: number; pending: number }>;
  query(q?: TelemetryQuery): Promise<TelemetryRow[]>;
  /** One record by its id (the lineage walk starts here). */
  get(id: number): Promise<TelemetryRow | undefined>;
  count(deviceId?: string): Promise<number>;
  /**
   * One batch of raw-telemetry retention: deletes up to `limit` of the oldest records (by id)
   * received before `cutoff`; returns how many. Rollups are not touched. Call it until it returns
   * less than `limit`; each call is short, so ingest never waits long behind it.
   */
  deleteReceivedBefore(cutoff: number, limit?: number): Promise<number>;
  /** Bytes the raw telemetry takes (table and indexes), beside rollups.bytes() for budgets and benches. */
  bytes(): Promise<number>;
}

export type NewSample = Omit<SampleSummary, 'id'>;

export interface SampleRepository {
  /** false when this (device, stream, seq) was stored before (a re-send). */
  insert(sample: NewSample): Promise<boolean>;
  list(q?: { device?: string; model?: string; limit?: number }): Promise<SampleSummary[]>;
  get(id: number): Promise<SampleSummary | undefined>;
  /**
   * Every sample the selection matches, oldest first, with `reference` its own value, else its
   * telemetry record's (same device, stream, seq), else a late value still waiting for that record.
   */
  forDataset(q: SampleSelection): Promise<DatasetSample[]>;
  /**
   * How many distinct images (sha256) among the samples the selection matches have a reference
   * value (joined as forDataset joins it): a count in the database, no rows loaded.
   */
  countWithReference(q: SampleSelection): Promise<number>;
}

export interface AuditQuery {
  actor?: string;
  /** A verb exactly, or a whole area (`device` matches `device.disable`). */
  action?: string;
  target?: string;
  /** Only entries with id below this (paging backwards). */
  before?: number;
  limit?: number;
}

export interface AuditRepository {
  append(entry: Omit<AuditEntrySummary, 'id'>): Promise<void>;
  /** Newest first. */
  list(q?: AuditQuery): Promise<AuditEntrySummary[]>;
}

export interface CredentialRepository {
  /** Creates or replaces the device's credential. */
  put(deviceId: string, secretHash: string, issuedAt: number, enrolledWith: string | null): Promise<void>;
  get(deviceId: string): Promise<{ secretHash: string; issuedAt: number; enrolledWith: string | null } | undefined>;
  remove(deviceId: string): Promise<boolean>;
}

/**
 * What an external Mosquitto's password file is built from. Every write bumps the revision, and
 * so must every other change the file depends on (a device disabled or enabled: `touch`, in the
 * same transaction), so one cheap read tells a poller whether to rebuild.
 */
export interface BrokerUserRepository {
  /** Creates or replaces the device's hash. */
  put(deviceId: string, passwordHash: string, now?: number): Promise<void>;
  /** Stores the hash only where the device has none yet; true when it did. */
  putIfAbsent(deviceId: string, passwordHash: string, now?: number): Promise<boolean>;
  remove(deviceId: string): Promise<boolean>;
  /** Bumps the revision without changing a hash. */
  touch(): Promise<void>;
  revision(): Promise<number>;
  /** Every stored hash with its device's disabled state, by device id. */
  list(): Promise<BrokerUser[]>;
}

export interface EnrollmentTokenRow {
  id: string;
  uses: number;
  usesLeft: number;
  expiresAt: number;
  group: string | null;
  tags: Record<string, string>;
  createdAt: number;
  createdBy: string;
  revokedAt: number | null;
}

export interface EnrollmentTokenRepository {
  insert(row: EnrollmentTokenRow & { tokenHash: string }): Promise<void>;
  get(id: string): Promise<EnrollmentTokenRow | undefined>;
  byHash(tokenHash: string): Promise<EnrollmentTokenRow | undefined>;
  list(): Promise<EnrollmentTokenRow[]>;
  /** false if unknown or already revoked. */
  revoke(id: string, now?: number): Promise<boolean>;
  /** Takes one use atomically; false when none is left. */
  takeUse(id: string): Promise<boolean>;
}

export interface AdminTokenRepository {
  insert(row: Omit<AdminTokenSummary, 'lastUsedAt' | 'revokedAt'> & { tokenHash: string }): Promise<void>;
  get(id: string): Promise<AdminTokenSummary | undefined>;
  byHash(tokenHash: string): Promise<AdminTokenSummary | undefined>;
  list(): Promise<AdminTokenSummary[]>;
  /** false if unknown or already revoked. */
  revoke(id: string, now?: number): Promise<boolean>;
  setLastUsed(id: string, now: number): Promise<void>;
  /** Active (not revoked) tokens, of one role when given. */
  activeCount(role?: AdminRole): Promise<number>;
}

/** A console session as stored: the sha256 of its id, never the id. */
export interface ConsoleSessionRow {
  idHash: string;
  tokenId: string;
  createdAt: number;
  expiresAt: number;
}

export interface ConsoleSessionRepository {
  insert(row: ConsoleSessionRow): Promise<void>;
  get(idHash: string): Promise<ConsoleSessionRow | undefined>;
  remove(idHash: string): Promise<void>;
  /** Every session of an admin token (it was revoked); how many there were. */
  removeForToken(tokenId: string): Promise<number>;
  /** Sessions whose expiresAt is at or before `now`; how many there were. */
  removeExpired(now: number): Promise<number>;
}

export interface KeyRepository {
  /** Oldest first. */
  keys(state?: SigningKeyState): Promise<SigningKeyRecord[]>;
  addPending(keyId: string, publicKey: string, keysetPayload: string, now?: number): Promise<void>;
  setPendingKeyset(keyId: string, keysetPayload: string): Promise<void>;
  latestKeyset(): Promise<KeysetRecord | undefined>;
  /**
   * Stores the keyset, makes the key active, retires every other active or pending key.
   * Returns the key ids retired.
   */
  activate(keyId: string, version: number, envelope: SignedEnvelope, now?: number): Promise<string[]>;
}

export interface RolloutRepository {
  /** false when another rollout of the model is running or paused (at most one may be). */
  insert(r: RolloutRecord, devices: readonly RolloutDeviceRecord[]): Promise<boolean>;
  /** Writes every mutable field. */
  update(r: RolloutRecord): Promise<void>;
  updateDevice(d: RolloutDeviceRecord): Promise<void>;
  get(id: string): Promise<RolloutRecord | undefined>;
  /** Newest first. */
  list(q?: { model?: string; state?: string; limit?: number }): Promise<RolloutRecord[]>;
  /** Running or paused, and finished ones with devices still to return (`returning` states). */
  workList(returning: readonly string[]): Promise<RolloutRecord[]>;
  activeFor(model: string): Promise<RolloutRecord | undefined>;
  /** By position. */
  devices(rolloutId: string): Promise<RolloutDeviceRecord[]>;
}

export interface TransferRow {
  deviceId: string;
  sha256: string;
  transport: 'http' | 'mqtt';
  bytes: number;
  requests: number;
}

export interface TransferRepository {
  /** Adds to the per (device, artifact, transport) counters. */
  add(rows: readonly TransferRow[], now?: number): Promise<void>;
  /** Newest first. */
  detail(deviceId: string): Promise<Array<Omit<TransferRow, 'deviceId'> & { updatedAt: number }>>;
}

export interface FleetStore {
  readonly devices: DeviceRepository;
  readonly assignments: AssignmentRepository;
  readonly shadows: AssignmentRepository;
  readonly updateEvents: UpdateEventRepository;
  readonly models: ModelVersionRepository;
  readonly telemetry: TelemetryRepository;
  readonly samples: SampleRepository;
  readonly audit: AuditRepository;
  readonly credentials: CredentialRepository;
  readonly brokerUsers: BrokerUserRepository;
  readonly enrollmentTokens: EnrollmentTokenRepository;
  readonly adminTokens: AdminTokenRepository;
  /** The console's browser sessions (identity/console-sessions.ts). */
  readonly consoleSessions: ConsoleSessionRepository;
  readonly keys: KeyRepository;
  readonly rollouts: RolloutRepository;
  readonly transfers: TransferRepository;
  readonly training: TrainingRepository;
  readonly datasets: DatasetRepository;
  /** Monitoring rollups (store/rollup-store-types.ts). */
  readonly rollups: RollupRepository;
  /** Rules, alerts, incidents (store/monitoring-store-types.ts). */
  readonly monitoring: MonitoringRepository;
  /** Retraining loop policies and runs (store/loop-store-types.ts). */
  readonly loop: LoopRepository;
  /** Read-only fingerprints per console topic (live updates); owns no table. */
  readonly changes: ChangeMarkRepository;
  /**
   * Runs fn as one unit of work: everything it does through `tx` (or through this store, from
   * within fn) commits together, or nothing does when fn throws. Inside a transaction, calling
   * transaction again runs fn in the same one.
   */
  transaction<T>(fn: (tx: FleetStore) => Promise<T>): Promise<T>;
  /** Leader lease and start-up turns among servers sharing this store (store/leader-lease.ts). */
  readonly cluster: ClusterCoordination;
  /**
   * Blobs in the database itself (PostgreSQL), for servers without a shared folder; undefined
   * where the store has none (SQLite: its one server keeps blobs in its data directory).
   * `stagingDir`: a local folder for uploads in progress.
   */
  readonly blobStore: ((namespace: BlobNamespace, stagingDir: string) => BlobStore) | undefined;
  close(): Promise<void>;
}

/** Where a store lives: a SQLite file, or a database URL (postgres://…). */
export type FleetStoreLocation = { sqlitePath: string } | { url: string };
