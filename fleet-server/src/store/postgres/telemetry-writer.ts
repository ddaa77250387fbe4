/**
 * @module store/postgres/telemetry-writer
 * Writes telemetry and late reference values into PostgreSQL. A batch of either is one call of a
 * function of telemetry-sql.ts (exactly-once, waiting reference values), with one array per
 * column; numeric arrays are sent as array literals built with one join.
 */
import type pg from 'pg';
import type { TelemetryRecord } from '@edgeloop/protocol';

/**
 * Runs one parameterised statement. The store runs these through Kysely, on the connection of
 * the unit of work in progress (postgres-telemetry-writer.ts); tools and tests use a pg pool or
 * client directly (pgRunner).
 */
export type SqlRunner = <R extends object>(text: string, values: unknown[]) => Promise<{ rows: R[]; rowCount: number }>;

export function pgRunner(db: pg.Pool | pg.PoolClient): SqlRunner {
  return async <R extends object>(text: string, values: unknown[]) => {
    const res = await db.query(text, values);
    return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
  };
}

const INSERT_TELEMETRY = `SELECT edgeloop_insert_telemetry($1::text, $2::text, $3::bigint[], $4::bigint[], $5::text[], $6::integer[], $7::text[],
  $8::text[], $9::double precision[], $10::double precision[], $11::text[], $12::double precision[], $13::integer[],
  $14::bigint, $15::bigint, $16::bigint, $17::integer) AS added`;

/**
 * Stores one batch of one device's stream; returns how many records were new. A late reference
 * value waiting for one of the records is taken over (it is newer than the record's own). Run it
 * inside a transaction: the (device, stream) lock it takes lasts until that commits.
 */
export async function insertTelemetry(
  run: SqlRunner,
  deviceId: string,
  stream: string,
  records: readonly TelemetryRecord[],
  now = Date.now(),
  historical = false,
): Promise<number> {
  const n = records.length;
  if (n === 0) return 0;
  const seq = new Array<number>(n);
  const ts = new Array<number>(n);
  const model = new Array<string>(n);
  const version = new Array<number>(n);
  const requestId = new Array<string | null>(n);
  const output = new Array<string>(n);
  const prediction = new Array<number | null>(n);
  const latency = new Array<number>(n);
  const features = new Array<string>(n);
  const reference = new Array<number | null>(n);
  const shadow = new Array<number>(n);
  let minSeq = Infinity;
  let maxSeq = -Infinity;
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    seq[i] = r.seq;
    ts[i] = r.ts;
    model[i] = r.model;
    version[i] = r.version;
    requestId[i] = r.requestId ?? null;
    output[i] = JSON.stringify(r.output);
    prediction[i] = r.prediction ?? null;
    latency[i] = r.latencyMs;
    features[i] = JSON.stringify(r.features);
    reference[i] = r.reference ?? null;
    shadow[i] = r.shadow ? 1 : 0;
    if (r.seq < minSeq) minSeq = r.seq;
    if (r.seq > maxSeq) maxSeq = r.seq;
  }
  const { rows } = await run<{ added: number }>(INSERT_TELEMETRY, [
    deviceId,
    stream,
    numbers(seq),
    numbers(ts),
    model,
    numbers(version),
    requestId,
    output,
    numbers(prediction),
    numbers(latency),
    features,
    numbers(reference),
    numbers(shadow),
    minSeq,
    maxSeq,
    now,
    historical ? 1 : 0,
  ]);
  return Number(rows[0]!.added);
}

/**
 * A PostgreSQL array literal of numbers. Numbers need no quoting, so this is one join instead of
 * node-postgres' per-element quoting and escaping — most of a batch's encoding time otherwise.
 */
function numbers(values: ReadonlyArray<number | null>): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    const v = values[i];
    out += v === null || v === undefined ? 'NULL' : String(v);
  }
  return out + '}';
}

const UPDATE_REFERENCES =
  'SELECT edgeloop_update_references($1::text, $2::text, $3::bigint[], $4::double precision[], $5::bigint) AS pending';

export interface ReferenceUpdateResult {
  /** Stored records that got their reference value. */
  applied: number;
  /** Values kept in pending_references until their record is stored. */
  pending: number;
}

/**
 * Sets late reference values on stored records; values for records not stored yet wait for
 * them (edgeloop_update_references, one call per batch). When one batch names a seq twice, the
 * later value wins (it is the newer reading).
 */
export async function updateReferences(
  run: SqlRunner,
  deviceId: string,
  stream: string,
  updates: ReadonlyArray<{ seq: number; reference: number }>,
  now = Date.now(),
): Promise<ReferenceUpdateResult> {
  if (updates.length === 0) return { applied: 0, pending: 0 };
  const latest = new Map<number, number>();
  for (const u of updates) latest.set(u.seq, u.reference);
  const { rows } = await run<{ pending: number }>(UPDATE_REFERENCES, [
    deviceId,
    stream,
    numbers([...latest.keys()]),
    numbers([...latest.values()]),
    now,
  ]);
  const pending = Number(rows[0]!.pending);
  return { applied: latest.size - pending, pending };
}

export interface PendingSweep {
  /** Waiting values whose record is stored after all, now applied. */
  applied: number;
  /** Waiting values received before the cutoff whose record never came, dropped. */
  pruned: number;
}

/**
 * Applies waiting reference values whose record is stored, and drops those older than `cutoff`.
 * The (device, stream) lock means an insert and a park never miss each other, whichever server
 * runs them; this is the safety net for values that got into the table past the trigger (a
 * restored dump, a session with triggers off).
 */
export async function sweepPendingReferences(run: SqlRunner, cutoff: number): Promise<PendingSweep> {
  const applied = await run(
    `
    WITH applied AS (
      UPDATE telemetry t SET reference = p.reference FROM pending_references p
       WHERE t.device_id = p.device_id AND t.stream = p.stream AND t.seq = p.seq
      RETURNING p.device_id, p.stream, p.seq
    )
    DELETE FROM pending_references p USING applied a
     WHERE p.device_id = a.device_id AND p.stream = a.stream AND p.seq = a.seq`,
    [],
  );
  const pruned = await run('DELETE FROM pending_references WHERE received_at < $1', [cutoff]);
  return { applied: applied.rowCount, pruned: pruned.rowCount };
}
