/**
 * @module store/postgres/telemetry-partitions
 * Daily partitions of `telemetry` (range on the record's ts, UTC days) and its retention.
 *
 * Each pass (at start, then hourly) makes sure a partition exists for every day from the
 * retention cutoff to `aheadDays` after today, drops the partitions wholly older than the cutoff
 * (dropping a partition frees its space at once, where DELETE would leave dead rows to vacuum),
 * and deletes from the default partition the rows older than the cutoff; it also sweeps the
 * late reference values (telemetry-writer.ts). Retention is by the record's own time: a record
 * whose device clock was years behind is past retention when it arrives, and goes at the next
 * pass (each pass reports how many such rows it removed).
 *
 * The default partition holds rows no daily partition covers. Rows from a device clock running
 * ahead wait there until their day gets a partition; the pass then moves them in before
 * attaching it, in one transaction, so their unique key keeps working (a re-send is routed to
 * the new partition and meets the moved row there).
 *
 * Several servers may share a database: a pass runs only where it wins a try-lock, the others
 * skip it. DDL waits at most `lockTimeoutMs` for ingest's locks and otherwise retries next pass.
 */
import type pg from 'pg';
import { pgRunner, sweepPendingReferences } from './telemetry-writer.js';

export const DAY_MS = 86_400_000;
export const DEFAULT_TELEMETRY_RETENTION_DAYS = 30;
export const DEFAULT_TELEMETRY_AHEAD_DAYS = 2;
/** Ten years of daily partitions; more partitions make every unfiltered query plan slower. */
export const MAX_TELEMETRY_RETENTION_DAYS = 3650;
/** Advisory lock key of partition maintenance ("edgepart" in ASCII). */
export const PARTITION_LOCK_KEY = 0x6564_6765_7061_7274n;

export interface PartitionPolicy {
  /** Records older than this many days (by their ts) are dropped. 1..3650, default 30. */
  retentionDays?: number;
  /** Partitions made ahead of today, so a new day never starts without one. Default 2. */
  aheadDays?: number;
  /** How long DDL may wait for a lock before giving up until the next pass. Default 5 s. */
  lockTimeoutMs?: number;
}

export interface PartitionPass {
  /** false when another server held the maintenance lock and this pass did nothing. */
  ran: boolean;
  created: string[];
  dropped: string[];
  /** Rows moved from the default partition into a newly made daily one. */
  moved: number;
  /** Rows deleted from the default partition for being older than the cutoff. */
  pruned: number;
  /** Waiting reference values whose record is stored after all, applied (see sweepPendingReferences). */
  appliedReferences: number;
  /** Late reference values dropped because their record had not come within the retention period. */
  prunedReferences: number;
}

/** Checks a policy; throws with the reason when a value is out of range. */
export function checkPartitionPolicy(policy: PartitionPolicy): Required<PartitionPolicy> {
  const {
    retentionDays = DEFAULT_TELEMETRY_RETENTION_DAYS,
    aheadDays = DEFAULT_TELEMETRY_AHEAD_DAYS,
    lockTimeoutMs = 5000,
  } = policy;
  if (!Number.isInteger(retentionDays) || retentionDays < 1 || retentionDays > MAX_TELEMETRY_RETENTION_DAYS) {
    throw new Error(
      `telemetryRetentionDays must be a whole number of days from 1 to ${MAX_TELEMETRY_RETENTION_DAYS}, got ${retentionDays}`,
    );
  }
  if (!Number.isInteger(aheadDays) || aheadDays < 1 || aheadDays > 31)
    throw new Error(`telemetry partition aheadDays must be 1..31, got ${aheadDays}`);
  if (!Number.isInteger(lockTimeoutMs) || lockTimeoutMs < 1)
    throw new Error(`lockTimeoutMs must be a positive whole number, got ${lockTimeoutMs}`);
  return { retentionDays, aheadDays, lockTimeoutMs };
}

export function partitionName(dayStart: number): string {
  return `telemetry_p${new Date(dayStart).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

interface Partition {
  name: string;
  from: number;
  to: number;
}

/** The daily partitions attached to telemetry now (the default partition excluded). */
export async function listTelemetryPartitions(db: pg.Pool | pg.PoolClient): Promise<Partition[]> {
  const { rows } = await db.query<{ name: string; bound: string }>(
    `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'telemetry'::regclass`,
  );
  const parts: Partition[] = [];
  for (const r of rows) {
    const m = /FROM \('?(-?\d+)'?\) TO \('?(-?\d+)'?\)/.exec(r.bound);
    if (m) parts.push({ name: r.name, from: Number(m[1]), to: Number(m[2]) });
  }
  return parts.sort((a, b) => a.from - b.from);
}

export async function maintainTelemetryPartitions(
  pool: pg.Pool,
  policy: PartitionPolicy = {},
  now = Date.now(),
): Promise<PartitionPass> {
  const { retentionDays, aheadDays, lockTimeoutMs } = checkPartitionPolicy(policy);
  const pass: PartitionPass = {
    ran: false,
    created: [],
    dropped: [],
    moved: 0,
    pruned: 0,
    appliedReferences: 0,
    prunedReferences: 0,
  };
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
      PARTITION_LOCK_KEY.toString(),
    ]);
    if (!rows[0]!.locked) return pass;
    pass.ran = true;
    try {
      const cutoff = now - retentionDays * DAY_MS;
      const firstDay = Math.floor(cutoff / DAY_MS) * DAY_MS;
      const lastDay = (Math.floor(now / DAY_MS) + aheadDays) * DAY_MS;
      const existing = await listTelemetryPartitions(client);
      const covered = (day: number) => existing.some((p) => p.from <= day && day < p.to);

      for (const p of existing) {
        if (p.to > cutoff) continue;
        await inTransaction(client, lockTimeoutMs, () => client.query(`DROP TABLE ${ident(p.name)}`));
        pass.dropped.push(p.name);
      }
      const pruned = await inTransaction(client, lockTimeoutMs, () =>
        client.query('DELETE FROM telemetry_default WHERE ts < $1', [cutoff]),
      );
      pass.pruned = pruned.rowCount ?? 0;
      const sweep = await sweepPendingReferences(pgRunner(client), cutoff);
      pass.appliedReferences = sweep.applied;
      pass.prunedReferences = sweep.pruned;
      for (let day = firstDay; day <= lastDay; day += DAY_MS) {
        if (covered(day)) continue;
        pass.moved += await createPartition(client, day, lockTimeoutMs);
        pass.created.push(partitionName(day));
      }
      return pass;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [PARTITION_LOCK_KEY.toString()]);
    }
  } catch (err) {
    broken = err as Error;
    throw err;
  } finally {
    client.release(broken);
  }
}

/**
 * Makes the partition of one day; returns how many rows it took over from the default partition.
 * The table is made detached, filled, then attached: attaching checks the default partition
 * holds nothing of the day any more, which is only true once those rows have moved.
 */
async function createPartition(client: pg.PoolClient, day: number, lockTimeoutMs: number): Promise<number> {
  const name = ident(partitionName(day));
  return inTransaction(client, lockTimeoutMs, async () => {
    // No insert may route a row of this day to the default partition between the move and the attach.
    await client.query('LOCK TABLE telemetry_default IN SHARE ROW EXCLUSIVE MODE');
    await client.query(`CREATE TABLE ${name} (LIKE telemetry INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
    const moved = await client.query(
      `WITH moved AS (DELETE FROM telemetry_default WHERE ts >= $1 AND ts < $2 RETURNING *) INSERT INTO ${name} SELECT * FROM moved`,
      [day, day + DAY_MS],
    );
    await client.query(`ALTER TABLE telemetry ATTACH PARTITION ${name} FOR VALUES FROM (${day}) TO (${day + DAY_MS})`);
    return moved.rowCount ?? 0;
  });
}

async function inTransaction<T>(client: pg.PoolClient, lockTimeoutMs: number, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL lock_timeout = ${lockTimeoutMs}`);
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
}

function ident(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain identifier: ${name}`);
  return name;
}

export interface PartitionMaintenance {
  stop(): Promise<void>;
}

/**
 * Runs a pass now and then every `intervalMs` (default one hour); `report` hears each pass and
 * each failure (a failed pass is retried at the next interval). The first pass is awaited, so a
 * server that starts has today's partitions before it takes telemetry.
 */
export async function startPartitionMaintenance(
  pool: pg.Pool,
  policy: PartitionPolicy,
  report: (pass: PartitionPass | Error) => void,
  intervalMs = 3_600_000,
): Promise<PartitionMaintenance> {
  checkPartitionPolicy(policy);
  report(await maintainTelemetryPartitions(pool, policy));
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    running ??= maintainTelemetryPartitions(pool, policy)
      .then(report, report)
      .finally(() => (running = undefined));
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
