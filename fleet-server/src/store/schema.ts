/**
 * @module store/schema
 * The fleet database's tables as Kysely sees them. Portable on purpose: flags are integers
 * (0/1), times are integer milliseconds, JSON columns are TEXT holding JSON. A PostgreSQL schema
 * maps these to its own types (bigint, text) and must hand them back as numbers and strings.
 *
 * `Generated` marks columns the database fills (auto ids, defaults); every other column is
 * written explicitly by the repository that owns the table (store/fleet-store.ts lists them).
 */
import type { ColumnType, Generated } from 'kysely';

/** An integer column with a default: optional on insert, always present on select. */
type Defaulted<T> = ColumnType<T, T | undefined, T>;

export interface DevicesTable {
  id: string;
  first_seen: number;
  last_seen: number | null;
  online: Defaulted<number>;
  session: Defaulted<number>;
  /** JSON: agent version, arch, platform, hardware, runtime, cpus, memory, stream. */
  info: string | null;
  /** JSON: RunningModel[]. */
  running: Defaulted<string>;
  backlog: Defaulted<number>;
  records: Defaulted<number>;
  dropped: Defaulted<number>;
  sample_upload_until: number | null;
  device_group: string | null;
  /** JSON object of string → string. */
  tags: Defaulted<string>;
  disabled: Defaulted<number>;
  /** JSON: SampleCapture, or null. */
  sample_capture: string | null;
  bytes_sent: Defaulted<number>;
  desired_counter: Defaulted<number>;
  report_session: number | null;
  report_seq: Defaulted<number>;
}

export interface ModelVersionsTable {
  name: string;
  version: number;
  sha256: string;
  size: number;
  envelope: string;
  manifest: string;
  key_id: string;
  created_at: number;
  status: Defaulted<string>;
  status_reason: string | null;
  status_at: number | null;
  description: string | null;
  labels: Defaulted<string>;
  metrics: Defaulted<string>;
  training_summary: string | null;
  lineage: Defaulted<string>;
  resigned_at: number | null;
}

/** Serving assignments (`assignments`) and shadow ones (`shadow_assignments`) share this shape. */
export interface AssignmentsTable {
  device_id: string;
  model: string;
  version: number;
  state: string;
  code: string | null;
  reason: string | null;
  updated_at: number;
}

export interface UpdateEventsTable {
  id: Generated<number>;
  device_id: string;
  model: string;
  version: number;
  state: string;
  code: string | null;
  reason: string | null;
  session: number | null;
  report_seq: number;
  ts: number;
  received_at: number;
  outbox_stream: string | null;
  outbox_id: number | null;
}

export interface TelemetryTable {
  id: Generated<number>;
  device_id: string;
  stream: string;
  seq: number;
  ts: number;
  received_at: number;
  model: string;
  version: number;
  request_id: string | null;
  /** JSON number[]. */
  output: string;
  prediction: number | null;
  latency_ms: number;
  /** JSON object of string → number. */
  features: string;
  reference: number | null;
  historical: Defaulted<number>;
  shadow: Defaulted<number>;
}

/** Late reference values for records not stored yet; applied by the insert that stores the record. */
export interface PendingReferencesTable {
  device_id: string;
  stream: string;
  seq: number;
  reference: number;
  received_at: number;
}

export interface SamplesTable {
  id: Generated<number>;
  device_id: string;
  stream: string;
  seq: number;
  model: string;
  version: number;
  ts: number;
  reason: string;
  prediction: number | null;
  reference: number | null;
  content_type: string;
  sha256: string;
  bytes: number;
  received_at: number;
}

export interface AuditLogTable {
  id: Generated<number>;
  ts: number;
  actor: string;
  action: string;
  target: string | null;
  /** JSON object. */
  details: Defaulted<string>;
}

export interface DeviceCredentialsTable {
  device_id: string;
  secret_hash: string;
  issued_at: number;
  enrolled_with: string | null;
}

/** Mosquitto's `$7$` hash of a device's broker password (external Mosquitto only). */
export interface BrokerUsersTable {
  device_id: string;
  password_hash: string;
  updated_at: number;
}

/** One row (id 1): bumped by every change the broker's password file depends on. */
export interface BrokerUsersRevisionTable {
  id: number;
  revision: number;
}

export interface EnrollmentTokensTable {
  id: string;
  token_hash: string;
  uses: number;
  uses_left: number;
  expires_at: number;
  device_group: string | null;
  tags: Defaulted<string>;
  created_at: number;
  created_by: string;
  revoked_at: number | null;
}

export interface AdminTokensTable {
  id: string;
  name: string;
  token_hash: string;
  created_at: number;
  created_by: string;
  last_used_at: number | null;
  revoked_at: number | null;
  /** viewer | operator | admin (protocol rest/roles.ts); rows from before roles are admin. */
  role: Defaulted<string>;
}

/** Console sessions: the session id is a bearer secret, so only its sha256 is kept. */
export interface ConsoleSessionsTable {
  id_hash: string;
  token_id: string;
  created_at: number;
  expires_at: number;
}

export interface SigningKeysTable {
  key_id: string;
  public_key: string;
  /** pending | active | retired */
  state: string;
  created_at: number;
  activated_at: number | null;
  retired_at: number | null;
  pending_keyset: string | null;
}

export interface KeysetsTable {
  version: number;
  envelope: string;
  created_at: number;
}

export interface RolloutsTable {
  id: string;
  model: string;
  version: number;
  baseline_version: number | null;
  strategy: string;
  role: Defaulted<string>;
  /** JSON RolloutTarget. */
  target: string;
  /** JSON parameters with defaults applied. */
  params: string;
  /** JSON Wave[]. */
  waves: string;
  state: string;
  reason: string | null;
  created_by: string;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
  current_wave: Defaulted<number>;
  holding: Defaulted<number>;
  promoted_at: number | null;
  judged_since: number;
  /** JSON object: previous version → re-released version. */
  rollback_versions: Defaulted<string>;
}

/**
 * What each device runs, one row per (device, model): the same facts as devices.running, kept
 * beside it by the device repository (the only writer of both) so lists filter and sort by a
 * running version through an index instead of parsing JSON per row.
 */
export interface DeviceModelsTable {
  device_id: string;
  model: string;
  version: number;
}

export interface RolloutDevicesTable {
  rollout_id: string;
  device_id: string;
  wave: number;
  position: number;
  state: string;
  previous_version: number | null;
  assigned_at: number | null;
  state_at: number;
  /** JSON: when each state was first entered. */
  times: Defaulted<string>;
  reason: string | null;
  acknowledged: Defaulted<number>;
}

export interface TransferBytesTable {
  device_id: string;
  sha256: string;
  /** http | mqtt */
  transport: string;
  bytes: number;
  requests: number;
  updated_at: number;
}

export interface TrainingJobsTable {
  id: string;
  dataset_id: string;
  trainer: string;
  /** JSON: the sweep as submitted. */
  sweep: string;
  metric: string;
  /** min | max */
  goal: string;
  parallel: number;
  timeout_ms: number;
  status: string;
  error: string | null;
  best_run_id: string | null;
  /** JSON: RegisterRunRequest, or null. */
  register: string | null;
  registered_model: string | null;
  registered_version: number | null;
  created_at: number;
  created_by: string;
  started_at: number | null;
  finished_at: number | null;
}

export interface TrainingRunsTable {
  id: string;
  job_id: string;
  position: number;
  dataset_id: string;
  trainer: string;
  /** JSON: the parameters the trainer got. */
  params: string;
  seed: number;
  status: string;
  /** JSON: TrainerMetrics. */
  metrics: string | null;
  error: string | null;
  exit_code: number | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  duration_ms: number | null;
  log: Defaulted<string>;
  model_sha256: string | null;
  model_size: number | null;
  /** JSON: TrainingSummary. */
  baseline: string | null;
  /** JSON: the trainer's ModelMetadata (meta.json). */
  meta: string | null;
  /** JSON: RunProgress. */
  progress: string | null;
}

/** Immutable dataset snapshots; the id is a hash of the content (protocol's datasetContentId). */
export interface DatasetsTable {
  id: string;
  name: string | null;
  description: string | null;
  created_at: number;
  /** JSON DatasetManifest. */
  manifest: string;
  item_count: number;
}

/** One labelled input of a snapshot; the bytes are a sample blob named by `sha256`. */
export interface DatasetItemsTable {
  dataset_id: string;
  sha256: string;
  label: number;
  /** train | validation | holdout */
  split: string;
  content_type: string;
  device_id: string | null;
  stream: string | null;
  seq: number | null;
  ts: number | null;
  model: string | null;
  version: number | null;
  reason: string | null;
  prediction: number | null;
  /** JSON object of string → number, or null. */
  features: string | null;
}

/**
 * Monitoring rollups (store/rollup-store-types.ts): append-only deltas of a key, merged by reads
 * and by compaction. `body` is repositories/rollup-repository.ts's encodeRollup.
 */
export interface RollupsTable {
  id: Generated<number>;
  model: string;
  version: number;
  /** serving | shadow */
  role: string;
  /** fleet | group:<name> | device:<id> */
  scope: string;
  window_start: number;
  window_ms: number;
  body: Uint8Array;
  /** 0: a delta not merged yet (compaction looks for these); 1: the merge of a key's rows. */
  compacted: Defaulted<number>;
}

/** An edge summary whose rollup was added (a re-send with the same position is skipped). */
export interface EdgeSummariesTable {
  device_id: string;
  stream: string;
  seq: number;
  received_at: number;
}

/** Monitoring (store/monitoring-store-types.ts): records are JSON bodies beside the columns lists filter on. */
export interface MonitoringRulesTable {
  name: string;
  body: string;
  updated_at: number;
}

export interface MonitoringRuleStatesTable {
  rule: string;
  model: string;
  version: number;
  scope: string;
  body: string;
}

export interface MonitoringAlertsTable {
  id: string;
  rule: string;
  model: string;
  version: number;
  scope: string;
  device_id: string | null;
  state: string;
  incident_id: string | null;
  body: string;
}

export interface MonitoringIncidentsTable {
  id: string;
  rule: string;
  model: string;
  version: number;
  state: string;
  body: string;
}

export interface MonitoringDeliveriesTable {
  id: string;
  status: string;
  next_attempt_at: number;
  body: string;
}

export interface MonitoringReferencesTable {
  model: string;
  version: number;
  body: string;
}

export interface MonitoringDeviceAlertsTable {
  device_id: string;
  stream: string;
  seq: number;
}

/** The retraining loop (store/loop-store-types.ts): policies and runs as JSON bodies beside the columns queries use. */
export interface LoopPoliciesTable {
  model: string;
  body: string;
  updated_at: number;
}

export interface LoopRunsTable {
  id: string;
  model: string;
  state: string;
  created_at: number;
  finished_at: number | null;
  /** `system` for automatic runs (the daily budget counts them), else the operator. */
  trigger_actor: string;
  body: string;
}

export interface Database {
  devices: DevicesTable;
  device_models: DeviceModelsTable;
  model_versions: ModelVersionsTable;
  assignments: AssignmentsTable;
  shadow_assignments: AssignmentsTable;
  update_events: UpdateEventsTable;
  telemetry: TelemetryTable;
  pending_references: PendingReferencesTable;
  samples: SamplesTable;
  audit_log: AuditLogTable;
  device_credentials: DeviceCredentialsTable;
  broker_users: BrokerUsersTable;
  broker_users_revision: BrokerUsersRevisionTable;
  enrollment_tokens: EnrollmentTokensTable;
  admin_tokens: AdminTokensTable;
  console_sessions: ConsoleSessionsTable;
  signing_keys: SigningKeysTable;
  keysets: KeysetsTable;
  rollouts: RolloutsTable;
  rollout_devices: RolloutDevicesTable;
  transfer_bytes: TransferBytesTable;
  training_jobs: TrainingJobsTable;
  training_runs: TrainingRunsTable;
  datasets: DatasetsTable;
  dataset_items: DatasetItemsTable;
  rollups: RollupsTable;
  edge_summaries: EdgeSummariesTable;
  monitoring_rules: MonitoringRulesTable;
  monitoring_rule_states: MonitoringRuleStatesTable;
  monitoring_alerts: MonitoringAlertsTable;
  monitoring_incidents: MonitoringIncidentsTable;
  monitoring_deliveries: MonitoringDeliveriesTable;
  monitoring_references: MonitoringReferencesTable;
  monitoring_device_alerts: MonitoringDeviceAlertsTable;
  loop_policies: LoopPoliciesTable;
  loop_runs: LoopRunsTable;
}
