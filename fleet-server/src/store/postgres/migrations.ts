/**
 * @module store/postgres/migrations
 * Numbered migrations of the PostgreSQL fleet store, recorded in `schema_migrations` (one row
 * per applied migration, with its name, so a database made by a different build is recognised).
 *
 * Several fleet servers may start against one database at once: each takes the same
 * transaction-independent advisory lock before looking at `schema_migrations`, so exactly one
 * applies what is missing and the others then find nothing left to do. Each migration runs in
 * its own transaction (PostgreSQL DDL is transactional): it is applied entirely or not at all.
 */
import type pg from 'pg';
import { FLEET_SCHEMA_SQL } from './schema-sql.js';
import { STORE_BATCHES_FUNCTION_SQL } from './telemetry-sql.js';
import { BLOB_TABLES_SQL } from './postgres-blob-store.js';

export interface Migration {
  /** Stable name, recorded beside the version number. */
  name: string;
  sql: string;
}

export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  { name: 'fleet-schema', sql: FLEET_SCHEMA_SQL },
  // An update report's outbox position, stored once per device (a report sent again under a new
  // session after a reconnect is recognised by it). NULLs never collide: older agents' reports stay.
  {
    name: 'update-events-outbox',
    sql: `ALTER TABLE update_events ADD COLUMN outbox_stream text COLLATE "C";
          ALTER TABLE update_events ADD COLUMN outbox_id bigint;
          CREATE UNIQUE INDEX update_events_outbox ON update_events (device_id, outbox_stream, outbox_id);`,
  },
  // The ingest's group commit as one call (telemetry-sql.ts).
  { name: 'telemetry-store-batches', sql: STORE_BATCHES_FUNCTION_SQL },
  // Artifacts and samples for a cluster without a shared file system (postgres-blob-store.ts).
  { name: 'blobs', sql: BLOB_TABLES_SQL },
  // Mosquitto's hash of each device's broker password (the leader builds the broker's files from
  // here) and a revision bumped by every change the files depend on (broker/mosquitto-sync.ts).
  {
    name: 'broker-users',
    sql: `CREATE TABLE broker_users (
            device_id text COLLATE "C" PRIMARY KEY,
            password_hash text COLLATE "C" NOT NULL,
            updated_at bigint NOT NULL
          );
          CREATE TABLE broker_users_revision (
            id integer PRIMARY KEY CHECK (id = 1),
            revision bigint NOT NULL
          );
          INSERT INTO broker_users_revision (id, revision) VALUES (1, 0);`,
  },
  // Dataset snapshots and their items (datasets/dataset-service.ts).
  {
    name: 'datasets',
    sql: `CREATE TABLE datasets (
            id text COLLATE "C" PRIMARY KEY,
            name text,
            description text,
            created_at bigint NOT NULL,
            manifest text NOT NULL,
            item_count integer NOT NULL
          );
          CREATE TABLE dataset_items (
            dataset_id text COLLATE "C" NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
            sha256 text COLLATE "C" NOT NULL,
            label double precision NOT NULL,
            split text COLLATE "C" NOT NULL,
            content_type text COLLATE "C" NOT NULL,
            device_id text COLLATE "C",
            stream text COLLATE "C",
            seq bigint,
            ts bigint,
            model text COLLATE "C",
            version integer,
            reason text COLLATE "C",
            prediction double precision,
            features text,
            PRIMARY KEY (dataset_id, sha256)
          );`,
  },
  // Training jobs and their runs (training/training-service.ts).
  {
    name: 'training',
    sql: `CREATE TABLE training_jobs (
            id text COLLATE "C" PRIMARY KEY,
            dataset_id text COLLATE "C" NOT NULL,
            trainer text COLLATE "C" NOT NULL,
            sweep text COLLATE "C" NOT NULL,
            metric text COLLATE "C" NOT NULL,
            goal text COLLATE "C" NOT NULL,
            parallel integer NOT NULL,
            timeout_ms bigint NOT NULL,
            status text COLLATE "C" NOT NULL,
            error text COLLATE "C",
            best_run_id text COLLATE "C",
            register text COLLATE "C",
            registered_model text COLLATE "C",
            registered_version integer,
            created_at bigint NOT NULL,
            created_by text COLLATE "C" NOT NULL,
            started_at bigint,
            finished_at bigint
          );
          CREATE INDEX training_jobs_status ON training_jobs (status);
          CREATE TABLE training_runs (
            id text COLLATE "C" PRIMARY KEY,
            job_id text COLLATE "C" NOT NULL,
            position integer NOT NULL,
            dataset_id text COLLATE "C" NOT NULL,
            trainer text COLLATE "C" NOT NULL,
            params text COLLATE "C" NOT NULL,
            seed bigint NOT NULL,
            status text COLLATE "C" NOT NULL,
            metrics text COLLATE "C",
            error text COLLATE "C",
            exit_code integer,
            created_at bigint NOT NULL,
            started_at bigint,
            finished_at bigint,
            duration_ms double precision,
            log text COLLATE "C" NOT NULL DEFAULT '',
            model_sha256 text COLLATE "C",
            model_size bigint,
            baseline text COLLATE "C",
            meta text COLLATE "C",
            progress text COLLATE "C"
          );
          CREATE UNIQUE INDEX training_runs_job ON training_runs (job_id, position);
          CREATE INDEX training_runs_dataset ON training_runs (dataset_id);`,
  },
  // Monitoring rollups, append-only deltas per (model, version, role, scope, window)
  // (repositories/rollup-repository.ts): ingest only ever inserts, so parallel writers never
  // wait on a hot key's row; compaction merges a key's rows later. edge_summaries: which of a
  // device's edge summaries were added, so a re-sent one is not counted twice.
  {
    name: 'rollups',
    sql: `CREATE TABLE rollups (
            id bigserial PRIMARY KEY,
            model text COLLATE "C" NOT NULL,
            version integer NOT NULL,
            role text COLLATE "C" NOT NULL,
            scope text COLLATE "C" NOT NULL,
            window_start bigint NOT NULL,
            window_ms bigint NOT NULL,
            body bytea NOT NULL,
            compacted integer NOT NULL DEFAULT 0
          );
          CREATE INDEX rollups_key ON rollups (model, version, role, scope, window_start);
          CREATE INDEX rollups_window ON rollups (window_start);
          CREATE INDEX rollups_deltas ON rollups (model, version, role, scope, window_start, window_ms) WHERE compacted = 0;
          CREATE TABLE edge_summaries (
            device_id text COLLATE "C" NOT NULL,
            stream text COLLATE "C" NOT NULL,
            seq bigint NOT NULL,
            received_at bigint NOT NULL,
            PRIMARY KEY (device_id, stream, seq)
          );
          CREATE INDEX edge_summaries_received ON edge_summaries (received_at);`,
  },
  // Monitoring rules, rule states, alerts, incidents, webhook deliveries, reference windows and
  // the local alerts already taken from devices (store/monitoring-store-types.ts).
  {
    name: 'monitoring-rules-alerts',
    sql: `CREATE TABLE monitoring_rules (
     name text COLLATE "C" PRIMARY KEY,
     body text COLLATE "C" NOT NULL,
     updated_at bigint NOT NULL
   );
   CREATE TABLE monitoring_rule_states (
     rule text COLLATE "C" NOT NULL,
     model text COLLATE "C" NOT NULL,
     version integer NOT NULL,
     scope text COLLATE "C" NOT NULL,
     body text COLLATE "C" NOT NULL,
     PRIMARY KEY (rule, model, version, scope)
   );
   CREATE TABLE monitoring_alerts (
     id text COLLATE "C" PRIMARY KEY,
     rule text COLLATE "C" NOT NULL,
     model text COLLATE "C" NOT NULL,
     version integer NOT NULL,
     scope text COLLATE "C" NOT NULL,
     device_id text COLLATE "C",
     state text COLLATE "C" NOT NULL,
     incident_id text COLLATE "C",
     body text COLLATE "C" NOT NULL
   );
   CREATE INDEX monitoring_alerts_key ON monitoring_alerts (rule, model, version, scope, state);
   CREATE INDEX monitoring_alerts_state ON monitoring_alerts (state, id);
   CREATE INDEX monitoring_alerts_device ON monitoring_alerts (device_id, id);
   CREATE INDEX monitoring_alerts_incident ON monitoring_alerts (incident_id);
   CREATE TABLE monitoring_incidents (
     id text COLLATE "C" PRIMARY KEY,
     rule text COLLATE "C" NOT NULL,
     model text COLLATE "C" NOT NULL,
     version integer NOT NULL,
     state text COLLATE "C" NOT NULL,
     body text COLLATE "C" NOT NULL
   );
   CREATE INDEX monitoring_incidents_key ON monitoring_incidents (rule, model, version, state);
   CREATE TABLE monitoring_deliveries (
     id text COLLATE "C" PRIMARY KEY,
     status text COLLATE "C" NOT NULL,
     next_attempt_at bigint NOT NULL,
     body text COLLATE "C" NOT NULL
   );
   CREATE INDEX monitoring_deliveries_due ON monitoring_deliveries (status, next_attempt_at);
   CREATE TABLE monitoring_references (
     model text COLLATE "C" NOT NULL,
     version integer NOT NULL,
     body text COLLATE "C" NOT NULL,
     PRIMARY KEY (model, version)
   );
   CREATE TABLE monitoring_device_alerts (
     device_id text COLLATE "C" NOT NULL,
     stream text COLLATE "C" NOT NULL,
     seq bigint NOT NULL,
     PRIMARY KEY (device_id, stream, seq)
   );`,
  },
  // The retraining loop's policies (one per model) and runs (store/loop-store-types.ts). At most
  // one run per model is running, also between servers: the partial unique index refuses a second.
  {
    name: 'loop',
    sql: `CREATE TABLE loop_policies (
            model text COLLATE "C" PRIMARY KEY,
            body text COLLATE "C" NOT NULL,
            updated_at bigint NOT NULL
          );
          CREATE TABLE loop_runs (
            id text COLLATE "C" PRIMARY KEY,
            model text COLLATE "C" NOT NULL,
            state text COLLATE "C" NOT NULL,
            created_at bigint NOT NULL,
            finished_at bigint,
            trigger_actor text COLLATE "C" NOT NULL,
            body text COLLATE "C" NOT NULL
          );
          CREATE UNIQUE INDEX loop_runs_one_running ON loop_runs (model) WHERE state = 'running';
          CREATE INDEX loop_runs_created ON loop_runs (created_at, id);
          CREATE INDEX loop_runs_model_created ON loop_runs (model, created_at, id);
          CREATE INDEX loop_runs_model_finished ON loop_runs (model, finished_at);`,
  },
  // Roles of admin tokens (tokens from before roles keep full access) and the console's browser
  // sessions (identity/console-sessions.ts): in the database, so every server sharing it knows them.
  {
    name: 'roles-and-console-sessions',
    sql: `ALTER TABLE admin_tokens ADD COLUMN role text COLLATE "C" NOT NULL DEFAULT 'admin';
          CREATE TABLE console_sessions (
            id_hash text COLLATE "C" PRIMARY KEY,
            token_id text COLLATE "C" NOT NULL,
            created_at bigint NOT NULL,
            expires_at bigint NOT NULL
          );
          CREATE INDEX console_sessions_token ON console_sessions (token_id);
          CREATE INDEX console_sessions_expires ON console_sessions (expires_at);`,
  },
  // The device list's filters and sorts (repositories/device-repository.ts): what each device
  // runs as rows (filled from devices.running), running and assigned versions looked up by
  // (model, version), last seen sorted without a table scan per page.
  {
    name: 'device-list',
    sql: `CREATE TABLE device_models (
            device_id text COLLATE "C" NOT NULL,
            model text COLLATE "C" NOT NULL,
            version integer NOT NULL,
            PRIMARY KEY (device_id, model)
          );
          INSERT INTO device_models (device_id, model, version)
            SELECT DISTINCT ON (d.id, m->>'name') d.id, m->>'name', (m->>'version')::integer
            FROM devices AS d, jsonb_array_elements(d.running::jsonb) AS m
            WHERE jsonb_typeof(d.running::jsonb) = 'array' AND m->>'name' IS NOT NULL AND m->>'version' IS NOT NULL;
          CREATE INDEX device_models_version ON device_models (model, version, device_id);
          CREATE INDEX assignments_version ON assignments (model, version, device_id);
          CREATE INDEX devices_last_seen ON devices (last_seen, id);`,
  },
];

/** Advisory lock key of migrations (any constant bigint; the text "edgeloop" in ASCII). */
export const MIGRATION_LOCK_KEY = 0x6564_6765_6c6f_6f70n;

export interface MigrationResult {
  /** Names of the migrations this call applied (empty when the schema was current). */
  applied: string[];
  /** Schema version now. */
  version: number;
}

export async function migratePostgres(
  pool: pg.Pool,
  migrations: readonly Migration[] = POSTGRES_MIGRATIONS,
): Promise<MigrationResult> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`);
      const { rows } = await client.query<{ version: number; name: string }>(
        'SELECT version, name FROM schema_migrations ORDER BY version',
      );
      const current = rows.length === 0 ? 0 : rows[rows.length - 1]!.version;
      if (current > migrations.length) {
        throw new Error(
          `fleet database schema v${current} is newer than this version understands (v${migrations.length}); upgrade EdgeLoop`,
        );
      }
      for (const row of rows) {
        const expected = migrations[row.version - 1];
        if (expected?.name !== row.name) {
          throw new Error(
            `fleet database migration ${row.version} is "${row.name}", this version expects "${expected?.name}": the database was made by a different build`,
          );
        }
      }
      const applied: string[] = [];
      for (let v = current; v < migrations.length; v++) {
        const m = migrations[v]!;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
            v + 1,
            m.name,
            Date.now(),
          ]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw new Error(`fleet database migration ${v + 1} (${m.name}) failed: ${(err as Error).message}`, {
            cause: err,
          });
        }
        applied.push(m.name);
      }
      return { applied, version: migrations.length };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()]);
    }
  } catch (err) {
    broken = err as Error;
    throw err;
  } finally {
    // A connection whose unlock or rollback failed is not handed to anyone else.
    client.release(broken);
  }
}
