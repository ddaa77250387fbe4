/**
 * @module bench/ingest-postgres
 * fleet.ingest_rate_postgres: records/s the fleet server decodes, validates, stores (PostgreSQL)
 * and acknowledges when many devices send telemetry at once over loopback MQTT through the
 * embedded broker, as fleet.ingest_rate measures it on SQLite (the devices are the same child
 * process, bench/ingest-devices.ts). Baseline: the same records inserted straight into the same
 * kind of store in the same run (fleet.ingest_rate_postgres_store below).
 *
 * fleet.ingest_rate_postgres_store: records/s the PostgreSQL FleetStore takes from many devices'
 * batches through the ingest's group commit `telemetry.storeBatches` (claim, COPY, dedup and
 * waiting reference values: store/postgres/telemetry-copy.ts), batches grouped as the ingest
 * groups them, as many groups at once as the store writes in parallel. Baseline: plain multi-row INSERT … VALUES
 * statements of the same records, same grouping, straight into the same schema through pg. The
 * server is a private one (test-postgres.ts) with fsync and synchronous commit on, as in
 * production.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import pino from 'pino';
import type { TelemetryRecord } from '@edgeloop/protocol';
import { migratePostgres } from '../../fleet-server/src/store/postgres/migrations.js';
import { openPostgresPool } from '../../fleet-server/src/store/postgres/pg-pool.js';
import { maintainTelemetryPartitions } from '../../fleet-server/src/store/postgres/telemetry-partitions.js';
import { openPostgresStore } from '../../fleet-server/src/store/postgres/open-postgres-store.js';
import { startTestPostgres } from '../../fleet-server/src/store/postgres/test-postgres.js';
import { MAX_GROUP_RECORDS } from '../../fleet-server/src/ingest/telemetry-ingest.js';
import { startFleetServer } from '../../fleet-server/src/server.js';
import type { Bench } from './figure.js';
import { benchRecord } from './bench-records.js';

const DEVICES = 50;
const RECORDS_PER_BATCH = 500;
const BATCHES = Number(process.env.EDGELOOP_BENCH_INGEST_BATCHES ?? 10);
const BATCHES_PER_GROUP = Math.max(1, Math.floor(MAX_GROUP_RECORDS / RECORDS_PER_BATCH));
const WINDOW = 8;

type Insert = (
  db: pg.PoolClient,
  deviceId: string,
  records: readonly TelemetryRecord[],
  now: number,
) => Promise<unknown>;
type Job = readonly [deviceId: string, records: TelemetryRecord[]];

const COLUMNS = [
  'device_id',
  'stream',
  'seq',
  'ts',
  'received_at',
  'model',
  'version',
  'request_id',
  'output',
  'prediction',
  'latency_ms',
  'features',
  'reference',
  'historical',
  'shadow',
];

/** The baseline: INSERT … VALUES ($1, …), (…), … ON CONFLICT DO NOTHING, one statement per batch. */
function valuesInsert(rows: number): Insert {
  const text = `INSERT INTO telemetry (${COLUMNS.join(', ')}) VALUES ${Array.from({ length: rows }, (_, r) => `(${COLUMNS.map((_c, c) => `$${r * COLUMNS.length + c + 1}`).join(', ')})`).join(', ')}
                ON CONFLICT (device_id, stream, seq, ts) DO NOTHING`;
  return (db, deviceId, records, now) => {
    const values: unknown[] = [];
    for (const r of records) {
      values.push(
        deviceId,
        's',
        r.seq,
        r.ts,
        now,
        r.model,
        r.version,
        r.requestId ?? null,
        JSON.stringify(r.output),
        r.prediction ?? null,
        r.latencyMs,
        JSON.stringify(r.features),
        r.reference ?? null,
        0,
        r.shadow ? 1 : 0,
      );
    }
    return db.query({ name: `bench_values_${rows}`, text, values });
  };
}

function jobsOf(batches: TelemetryRecord[][]): Job[] {
  return Array.from({ length: DEVICES }, (_, d) => batches.map((b) => [`dev-${d}`, b] as const)).flat();
}

/** The baseline: every device's batches as VALUES statements, BATCHES_PER_GROUP to a transaction; records/s. */
async function measureValues(url: string, jobs: readonly Job[]): Promise<number> {
  const insert = valuesInsert(RECORDS_PER_BATCH);
  const pool = openPostgresPool(url, { max: 1 });
  try {
    await migratePostgres(pool);
    await maintainTelemetryPartitions(pool);
    const client = await pool.connect();
    try {
      const t0 = performance.now();
      for (let i = 0; i < jobs.length; i += BATCHES_PER_GROUP) {
        await client.query('BEGIN');
        for (const [deviceId, batch] of jobs.slice(i, i + BATCHES_PER_GROUP))
          await insert(client, deviceId, batch, Date.now());
        await client.query('COMMIT');
      }
      const seconds = (performance.now() - t0) / 1000;
      expectStored(
        await client.query<{ n: number }>('SELECT count(*) AS n FROM telemetry').then((r) => r.rows[0]!.n),
        jobs.length,
      );
      return (jobs.length * RECORDS_PER_BATCH) / seconds;
    } finally {
      client.release();
    }
  } finally {
    await pool.end();
  }
}

/**
 * The same batches through the FleetStore's group commit as the ingest makes it: BATCHES_PER_GROUP
 * to a telemetry.storeBatches call, parallelWrites calls at once on disjoint devices; records/s.
 */
async function measureStore(url: string, jobs: readonly Job[]): Promise<number> {
  const store = await openPostgresStore(url);
  try {
    const lanes = store.telemetry.parallelWrites;
    const laneOf = new Map(Array.from({ length: DEVICES }, (_, d) => [`dev-${d}`, d % lanes]));
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: lanes }, async (_, lane) => {
        const mine = jobs.filter(([deviceId]) => laneOf.get(deviceId) === lane);
        for (let i = 0; i < mine.length; i += BATCHES_PER_GROUP)
          await store.telemetry.storeBatches(
            mine
              .slice(i, i + BATCHES_PER_GROUP)
              .map(([deviceId, records]) => ({ deviceId, stream: 's', records, historical: false, backlog: 0 })),
          );
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    expectStored(await store.telemetry.count(), jobs.length);
    return (jobs.length * RECORDS_PER_BATCH) / seconds;
  } finally {
    await store.close();
  }
}

/**
 * A fleet server on the database, 50 enrolled devices in a child process sending as agents do;
 * records/s from the first tenth stored (connections up, JIT warm) to the last.
 */
async function measureMqtt(url: string): Promise<number> {
  const total = DEVICES * BATCHES * RECORDS_PER_BATCH;
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-bench-pg-'));
  const server = await startFleetServer(
    {
      dataDir: join(dir, 'fleet'),
      db: url,
      http: { port: 0 },
      mqtt: { mode: 'embedded', port: 0, serverPassword: randomBytes(18).toString('base64url') },
    },
    pino({ level: 'silent' }),
  );
  try {
    const devices = [];
    for (let d = 0; d < DEVICES; d++) {
      const { token } = await server.identity.enrollmentTokens.create({ uses: 1 }, 'bench');
      const enrolled = await server.identity.enroll({ token, deviceId: `ingest-${d}` });
      devices.push({ id: `ingest-${d}`, password: enrolled.password });
    }
    const plan = {
      mqttUrl: server.mqttUrl,
      devices,
      batches: BATCHES,
      recordsPerBatch: RECORDS_PER_BATCH,
      window: WINDOW,
    };
    const script = fileURLToPath(new URL('./ingest-devices.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(plan)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await waitFor('first tenth stored', () => server.stats.stored >= total / 10, 120_000, exited);
      const t0 = performance.now();
      await waitFor('all records stored', () => server.stats.stored >= total, 300_000, exited);
      return (0.9 * total) / ((performance.now() - t0) / 1000);
    } finally {
      if ((await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000, 'timeout'))])) === 'timeout')
        child.kill('SIGKILL');
    }
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function waitFor(
  what: string,
  done: () => boolean,
  timeoutMs: number,
  exited: Promise<number | null>,
): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    if (gone && !done()) {
      await new Promise((r) => setTimeout(r, 1000));
      if (!done()) throw new Error(`the devices' process ended before ${what}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

function expectStored(stored: number, batches: number): void {
  if (stored !== batches * RECORDS_PER_BATCH)
    throw new Error(`stored ${stored} records, expected ${batches * RECORDS_PER_BATCH}`);
}

export const ingestPostgresBench: Bench = {
  name: 'fleet.ingest_rate_postgres',
  async run(progress) {
    const total = DEVICES * BATCHES * RECORDS_PER_BATCH;
    // Records of the last hour, so they land in today's partition as live telemetry does.
    const start = Date.now() - 3_600_000;
    const batches = Array.from({ length: BATCHES }, (_, b) =>
      Array.from({ length: RECORDS_PER_BATCH }, (_, i) => ({
        ...benchRecord(b * RECORDS_PER_BATCH + i),
        ts: start + b * RECORDS_PER_BATCH + i,
      })),
    );
    const jobs = jobsOf(batches);
    const figures: number[] = [];
    for (const [label, measure] of [
      ['multi-row VALUES straight into the schema (baseline)', measureValues],
      ['FleetStore storeBatches', measureStore],
    ] as const) {
      const db = await startTestPostgres({ durable: true });
      if ('skip' in db) {
        progress(db.skip);
        return [];
      }
      try {
        progress(
          `${label}: ${total} records from ${DEVICES} devices, ${BATCHES_PER_GROUP} batches of ${RECORDS_PER_BATCH} per transaction, fsync on`,
        );
        figures.push(await measure(db.url, jobs));
      } finally {
        await db.stop();
      }
    }
    const [baseline, rate] = figures as [number, number];
    const db = await startTestPostgres({ durable: true });
    if ('skip' in db) return [];
    let mqttRate: number;
    try {
      progress(
        `MQTT: ${DEVICES} enrolled devices each send ${BATCHES} batches of ${RECORDS_PER_BATCH} (window ${WINDOW}) from a child process to a server on PostgreSQL`,
      );
      mqttRate = await measureMqtt(db.url);
    } finally {
      await db.stop();
    }
    return [
      {
        name: 'fleet.ingest_rate_postgres',
        value: mqttRate,
        unit: 'records/s',
        baseline: rate,
        note: `${DEVICES} devices over loopback MQTT (embedded broker), compact batches of ${RECORDS_PER_BATCH}, PostgreSQL store (fsync on), steady state; baseline = the same batches through the store's storeBatches`,
      },
      {
        name: 'fleet.ingest_rate_postgres_store',
        value: rate,
        unit: 'records/s',
        baseline,
        note: `PostgreSQL FleetStore storeBatches (the ingest's group commit: COPY of new records, dedup, waiting references, device counters), ${BATCHES_PER_GROUP} batches of ${RECORDS_PER_BATCH} per group, groups on parallel connections, fsync on; baseline = multi-row INSERT … VALUES of the same batches through pg, one connection`,
      },
    ];
  },
};
