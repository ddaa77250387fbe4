/**
 * @module store/sqlite/migrations
 * The fleet database's schema in SQLite, as numbered migrations keyed on `user_version`. The
 * list only ever grows: a database at any earlier version opens and is brought forward, each
 * step in its own transaction (protocol's applyMigrations, shared with the agent's database).
 * Never edit a migration that has shipped; add one.
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  // 1: devices, model versions, assignments, update reports, telemetry keyed (device, stream, seq).

  `CREATE TABLE devices (
     id TEXT PRIMARY KEY,
     first_seen INTEGER NOT NULL,
     last_seen INTEGER,
     online INTEGER NOT NULL DEFAULT 0,
     session INTEGER NOT NULL DEFAULT 0,
     info TEXT,
     running TEXT NOT NULL DEFAULT '[]',
     backlog INTEGER NOT NULL DEFAULT 0,
     records INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE model_versions (
     name TEXT NOT NULL,
     version INTEGER NOT NULL,
     sha256 TEXT NOT NULL,
     size INTEGER NOT NULL,
     envelope TEXT NOT NULL,
     manifest TEXT NOT NULL,
     key_id TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (name, version)
   );
   CREATE TABLE assignments (
     device_id TEXT NOT NULL,
     model TEXT NOT NULL,
     version INTEGER NOT NULL,
     state TEXT NOT NULL,
     code TEXT,
     reason TEXT,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (device_id, model)
   );
   CREATE TABLE update_events (
     id INTEGER PRIMARY KEY,
     device_id TEXT NOT NULL,
     model TEXT NOT NULL,
     version INTEGER NOT NULL,
     state TEXT NOT NULL,
     code TEXT,
     reason TEXT,
     report_seq INTEGER NOT NULL,
     ts INTEGER NOT NULL,
     received_at INTEGER NOT NULL
   );
   CREATE INDEX update_events_device ON update_events (device_id, id);
   CREATE TABLE telemetry (
     id INTEGER PRIMARY KEY,
     device_id TEXT NOT NULL,
     stream TEXT NOT NULL,
     seq INTEGER NOT NULL,
     ts INTEGER NOT NULL,
     received_at INTEGER NOT NULL,
     model TEXT NOT NULL,
     version INTEGER NOT NULL,
     request_id TEXT,
     output TEXT NOT NULL,
     prediction REAL,
     latency_ms REAL NOT NULL,
     features TEXT NOT NULL,
     reference REAL,
     UNIQUE (device_id, stream, seq)
   );
   CREATE INDEX telemetry_device ON telemetry (device_id, id);
   CREATE INDEX telemetry_model ON telemetry (model, version, id);`,
  // 2: buffer-cap drops reported by devices; records forwarded after an outage.
  `ALTER TABLE devices ADD COLUMN dropped INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE telemetry ADD COLUMN historical INTEGER NOT NULL DEFAULT 0;`,
  // 3: raw inputs devices keep for retraining, and the operator's request to upload them.
  `CREATE TABLE samples (
     id INTEGER PRIMARY KEY,
     device_id TEXT NOT NULL,
     stream TEXT NOT NULL,
     seq INTEGER NOT NULL,
     model TEXT NOT NULL,
     version INTEGER NOT NULL,
     ts INTEGER NOT NULL,
     reason TEXT NOT NULL,
     prediction REAL,
     reference REAL,
     content_type TEXT NOT NULL,
     sha256 TEXT NOT NULL,
     bytes INTEGER NOT NULL,
     received_at INTEGER NOT NULL,
     UNIQUE (device_id, stream, seq)
   );
   CREATE INDEX samples_model ON samples (model, version, id);
   ALTER TABLE devices ADD COLUMN sample_upload_until INTEGER;`,
  // 4: the audit log: every state-changing API call and automatic decision.
  `
  CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    details TEXT NOT NULL DEFAULT '{}'
  );
  CREATE INDEX audit_log_ts ON audit_log (ts);`,
  // 5: device identity: group, tags and disabled flag; credentials, enrollment and admin tokens (sha256 digests only).
  `
  ALTER TABLE devices ADD COLUMN device_group TEXT;
  ALTER TABLE devices ADD COLUMN tags TEXT NOT NULL DEFAULT '{}';
  ALTER TABLE devices ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX devices_group ON devices (device_group);
  CREATE TABLE device_credentials (
    device_id TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    enrolled_with TEXT
  );
  CREATE TABLE enrollment_tokens (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    uses INTEGER NOT NULL,
    uses_left INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    device_group TEXT,
    tags TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    revoked_at INTEGER
  );
  CREATE TABLE admin_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
  );`,
  // 6: the signing chain (online keys, root-signed keysets); registry metadata, status and lineage.
  `
  CREATE TABLE signing_keys (
    key_id TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'retired')),
    created_at INTEGER NOT NULL,
    activated_at INTEGER,
    retired_at INTEGER,
    pending_keyset TEXT
  );
  CREATE TABLE keysets (
    version INTEGER PRIMARY KEY,
    envelope TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  ALTER TABLE model_versions ADD COLUMN status TEXT NOT NULL DEFAULT 'registered';
  ALTER TABLE model_versions ADD COLUMN status_reason TEXT;
  ALTER TABLE model_versions ADD COLUMN status_at INTEGER;
  ALTER TABLE model_versions ADD COLUMN description TEXT;
  ALTER TABLE model_versions ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';
  ALTER TABLE model_versions ADD COLUMN metrics TEXT NOT NULL DEFAULT '{}';
  ALTER TABLE model_versions ADD COLUMN training_summary TEXT;
  ALTER TABLE model_versions ADD COLUMN lineage TEXT NOT NULL DEFAULT '{}';
  ALTER TABLE model_versions ADD COLUMN resigned_at INTEGER;`,
  // 7: rollouts and their per-device state machine; one active rollout per model (partial unique index).
  `
  CREATE TABLE rollouts (
    id TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    version INTEGER NOT NULL,
    baseline_version INTEGER,
    strategy TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'serve',
    target TEXT NOT NULL,
    params TEXT NOT NULL,
    waves TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    finished_at INTEGER,
    current_wave INTEGER NOT NULL DEFAULT 0,
    holding INTEGER NOT NULL DEFAULT 0,
    promoted_at INTEGER,
    judged_since INTEGER NOT NULL,
    rollback_versions TEXT NOT NULL DEFAULT '{}'
  );
  CREATE UNIQUE INDEX rollouts_one_active ON rollouts (model) WHERE state IN ('running', 'paused');
  CREATE INDEX rollouts_state ON rollouts (state);
  CREATE TABLE rollout_devices (
    rollout_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    wave INTEGER NOT NULL,
    position INTEGER NOT NULL,
    state TEXT NOT NULL,
    previous_version INTEGER,
    assigned_at INTEGER,
    state_at INTEGER NOT NULL,
    times TEXT NOT NULL DEFAULT '{}',
    reason TEXT,
    acknowledged INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (rollout_id, device_id)
  );
  CREATE INDEX rollout_devices_device ON rollout_devices (device_id);`,
  // 8: shadow records and assignments; artifact bytes sent per device, artifact and transport.
  `
  ALTER TABLE telemetry ADD COLUMN shadow INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE devices ADD COLUMN bytes_sent INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE shadow_assignments (
    device_id TEXT NOT NULL,
    model TEXT NOT NULL,
    version INTEGER NOT NULL,
    state TEXT NOT NULL,
    code TEXT,
    reason TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (device_id, model)
  );
  CREATE TABLE transfer_bytes (
    device_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    transport TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (device_id, sha256, transport)
  );`,
  // 9: capture windows the fleet opens on a device.
  `ALTER TABLE devices ADD COLUMN sample_capture TEXT;`,
  // 10: signed desired states (counter) and update reports bound to their session.
  `
  ALTER TABLE devices ADD COLUMN desired_counter INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE devices ADD COLUMN report_session INTEGER;
  ALTER TABLE devices ADD COLUMN report_seq INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE update_events ADD COLUMN session INTEGER;
`,
  // 11: late reference values for records not stored yet (applied by the insert that stores them).
  `CREATE TABLE pending_references (
     device_id TEXT NOT NULL,
     stream TEXT NOT NULL,
     seq INTEGER NOT NULL,
     reference REAL NOT NULL,
     received_at INTEGER NOT NULL,
     PRIMARY KEY (device_id, stream, seq)
   );
   CREATE INDEX pending_references_received ON pending_references (received_at);`,
  // 12: an update report's outbox position, stored once per device (a report sent again under a
  // new session after a reconnect is recognised by it).
  `ALTER TABLE update_events ADD COLUMN outbox_stream TEXT;
   ALTER TABLE update_events ADD COLUMN outbox_id INTEGER;
   CREATE UNIQUE INDEX update_events_outbox ON update_events (device_id, outbox_stream, outbox_id);`,
  // 13: Mosquitto's hash of each device's broker password (one writer of the broker's files in a
  // cluster builds them from here) and a revision bumped by every change the files depend on.
  `CREATE TABLE broker_users (
     device_id TEXT PRIMARY KEY,
     password_hash TEXT NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE broker_users_revision (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     revision INTEGER NOT NULL
   );
   INSERT INTO broker_users_revision (id, revision) VALUES (1, 0);`,
  // 14: dataset snapshots and their items (datasets/dataset-service.ts).
  `CREATE TABLE datasets (
     id TEXT PRIMARY KEY,
     name TEXT,
     description TEXT,
     created_at INTEGER NOT NULL,
     manifest TEXT NOT NULL,
     item_count INTEGER NOT NULL
   );
   CREATE TABLE dataset_items (
     dataset_id TEXT NOT NULL,
     sha256 TEXT NOT NULL,
     label REAL NOT NULL,
     split TEXT NOT NULL,
     content_type TEXT NOT NULL,
     device_id TEXT,
     stream TEXT,
     seq INTEGER,
     ts INTEGER,
     model TEXT,
     version INTEGER,
     reason TEXT,
     prediction REAL,
     features TEXT,
     PRIMARY KEY (dataset_id, sha256)
   );`,
  // 15: training jobs (a sweep over one dataset with one trainer) and their runs: params, seed,
  // status, metrics, log and artifacts (the model by its sha256 in the artifact store).
  `CREATE TABLE training_jobs (
     id TEXT PRIMARY KEY,
     dataset_id TEXT NOT NULL,
     trainer TEXT NOT NULL,
     sweep TEXT NOT NULL,
     metric TEXT NOT NULL,
     goal TEXT NOT NULL,
     parallel INTEGER NOT NULL,
     timeout_ms INTEGER NOT NULL,
     status TEXT NOT NULL,
     error TEXT,
     best_run_id TEXT,
     register TEXT,
     registered_model TEXT,
     registered_version INTEGER,
     created_at INTEGER NOT NULL,
     created_by TEXT NOT NULL,
     started_at INTEGER,
     finished_at INTEGER
   );
   CREATE INDEX training_jobs_status ON training_jobs (status);
   CREATE TABLE training_runs (
     id TEXT PRIMARY KEY,
     job_id TEXT NOT NULL,
     position INTEGER NOT NULL,
     dataset_id TEXT NOT NULL,
     trainer TEXT NOT NULL,
     params TEXT NOT NULL,
     seed INTEGER NOT NULL,
     status TEXT NOT NULL,
     metrics TEXT,
     error TEXT,
     exit_code INTEGER,
     created_at INTEGER NOT NULL,
     started_at INTEGER,
     finished_at INTEGER,
     duration_ms REAL,
     log TEXT NOT NULL DEFAULT '',
     model_sha256 TEXT,
     model_size INTEGER,
     baseline TEXT,
     meta TEXT,
     progress TEXT
   );
   CREATE UNIQUE INDEX training_runs_job ON training_runs (job_id, position);
   CREATE INDEX training_runs_dataset ON training_runs (dataset_id);`,
  // 16: monitoring rollups, append-only deltas per (model, version, role, scope, window)
  // (repositories/rollup-repository.ts). The key index serves reads and compaction; the window
  // index serves retention and downsampling by age. edge_summaries: which of a device's edge
  // summaries were added, so a re-sent one is not counted twice.
  `CREATE TABLE rollups (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     model TEXT NOT NULL,
     version INTEGER NOT NULL,
     role TEXT NOT NULL,
     scope TEXT NOT NULL,
     window_start INTEGER NOT NULL,
     window_ms INTEGER NOT NULL,
     body BLOB NOT NULL,
     compacted INTEGER NOT NULL DEFAULT 0
   );
   CREATE INDEX rollups_key ON rollups (model, version, role, scope, window_start);
   CREATE INDEX rollups_window ON rollups (window_start);
   CREATE INDEX rollups_deltas ON rollups (model, version, role, scope, window_start, window_ms) WHERE compacted = 0;
   CREATE TABLE edge_summaries (
     device_id TEXT NOT NULL,
     stream TEXT NOT NULL,
     seq INTEGER NOT NULL,
     received_at INTEGER NOT NULL,
     PRIMARY KEY (device_id, stream, seq)
   );
   CREATE INDEX edge_summaries_received ON edge_summaries (received_at);`,
  // 17: monitoring rules, the rule engine's states, alerts with history, incidents grouping them,
  // webhook deliveries (retries survive a restart), chosen reference windows and the local
  // alerts already taken from devices (store/monitoring-store-types.ts).
  `CREATE TABLE monitoring_rules (
     name TEXT PRIMARY KEY,
     body TEXT NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE monitoring_rule_states (
     rule TEXT NOT NULL,
     model TEXT NOT NULL,
     version INTEGER NOT NULL,
     scope TEXT NOT NULL,
     body TEXT NOT NULL,
     PRIMARY KEY (rule, model, version, scope)
   );
   CREATE TABLE monitoring_alerts (
     id TEXT PRIMARY KEY,
     rule TEXT NOT NULL,
     model TEXT NOT NULL,
     version INTEGER NOT NULL,
     scope TEXT NOT NULL,
     device_id TEXT,
     state TEXT NOT NULL,
     incident_id TEXT,
     body TEXT NOT NULL
   );
   CREATE INDEX monitoring_alerts_key ON monitoring_alerts (rule, model, version, scope, state);
   CREATE INDEX monitoring_alerts_state ON monitoring_alerts (state, id);
   CREATE INDEX monitoring_alerts_device ON monitoring_alerts (device_id, id);
   CREATE INDEX monitoring_alerts_incident ON monitoring_alerts (incident_id);
   CREATE TABLE monitoring_incidents (
     id TEXT PRIMARY KEY,
     rule TEXT NOT NULL,
     model TEXT NOT NULL,
     version INTEGER NOT NULL,
     state TEXT NOT NULL,
     body TEXT NOT NULL
   );
   CREATE INDEX monitoring_incidents_key ON monitoring_incidents (rule, model, version, state);
   CREATE TABLE monitoring_deliveries (
     id TEXT PRIMARY KEY,
     status TEXT NOT NULL,
     next_attempt_at INTEGER NOT NULL,
     body TEXT NOT NULL
   );
   CREATE INDEX monitoring_deliveries_due ON monitoring_deliveries (status, next_attempt_at);
   CREATE TABLE monitoring_references (
     model TEXT NOT NULL,
     version INTEGER NOT NULL,
     body TEXT NOT NULL,
     PRIMARY KEY (model, version)
   );
   CREATE TABLE monitoring_device_alerts (
     device_id TEXT NOT NULL,
     stream TEXT NOT NULL,
     seq INTEGER NOT NULL,
     PRIMARY KEY (device_id, stream, seq)
   );`,
  // 18: the retraining loop's policies (one per model) and runs (store/loop-store-types.ts). At
  // most one run per model is running: the partial unique index refuses a second one.
  `CREATE TABLE loop_policies (
     model TEXT PRIMARY KEY,
     body TEXT NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE loop_runs (
     id TEXT PRIMARY KEY,
     model TEXT NOT NULL,
     state TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     finished_at INTEGER,
     trigger_actor TEXT NOT NULL,
     body TEXT NOT NULL
   );
   CREATE UNIQUE INDEX loop_runs_one_running ON loop_runs (model) WHERE state = 'running';
   CREATE INDEX loop_runs_created ON loop_runs (created_at, id);
   CREATE INDEX loop_runs_model_created ON loop_runs (model, created_at, id);
   CREATE INDEX loop_runs_model_finished ON loop_runs (model, finished_at);`,
  // 19: roles of admin tokens (tokens from before roles keep full access) and the console's
  // browser sessions (identity/console-sessions.ts), kept by the sha256 of their id.
  `ALTER TABLE admin_tokens ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';
   CREATE TABLE console_sessions (
     id_hash TEXT PRIMARY KEY,
     token_id TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE INDEX console_sessions_token ON console_sessions (token_id);
   CREATE INDEX console_sessions_expires ON console_sessions (expires_at);`,
  // 20: the device list's filters and sorts (repositories/device-repository.ts): what each
  // device runs as rows (filled from devices.running), running and assigned versions looked up
  // by (model, version), last seen and the agent's info sorted without a table scan per page.
  `CREATE TABLE device_models (
     device_id TEXT NOT NULL,
     model TEXT NOT NULL,
     version INTEGER NOT NULL,
     PRIMARY KEY (device_id, model)
   );
   INSERT OR REPLACE INTO device_models (device_id, model, version)
     SELECT d.id, json_extract(j.value, '$.name'), json_extract(j.value, '$.version')
     FROM devices AS d, json_each(d.running) AS j
     WHERE json_valid(d.running) AND json_extract(j.value, '$.name') IS NOT NULL
       AND json_extract(j.value, '$.version') IS NOT NULL;
   CREATE INDEX device_models_version ON device_models (model, version, device_id);
   CREATE INDEX assignments_version ON assignments (model, version, device_id);
   CREATE INDEX devices_last_seen ON devices (last_seen, id);`,
];
