/**
 * @module store/postgres/telemetry-writer
 * Writes telemetry and late reference values into PostgreSQL. A batch of either is one call of a
 * function of telemetry-sql.ts (exactly-once, waiting reference values), with one array per
 * column; numeric arrays are sent as array literals built with one join. The ingest's group
 * commit is one call too, whatever the number of batches and devices in the group.
 */
import type pg from 'pg';
import type { TelemetryRecord } from '@edgeloop/protocol';
import type { IngestBatch, StoredBatch } from '../fleet-store.js';
import type { BatchFold } from '../repositories/ingest-rollups.js';
import { freshRecords } from '../repositories/telemetry-repository.js';

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

/** The records' columns as the functions take them, one array per column (in parameter order). */
class RecordColumns {
  readonly seq: number[] = [];
  readonly ts: number[] = [];
  readonly model: string[] = [];
  readonly version: number[] = [];
  readonly requestId: Array<string | null> = [];
  readonly output: string[] = [];
  readonly prediction: Array<number | null> = [];
  readonly latency: number[] = [];
  readonly features: string[] = [];
  readonly reference: Array<number | null> = [];
  readonly shadow: number[] = [];

  /** Appends the records; returns their lowest and highest seq. */
  add(records: readonly TelemetryRecord[]): { minSeq: number; maxSeq: number } {
    let minSeq = Infinity;
    let maxSeq = -Infinity;
    for (const r of records) {
      this.seq.push(r.seq);
      this.ts.push(r.ts);
      this.model.push(r.model);
      this.version.push(r.version);
      this.requestId.push(r.requestId ?? null);
      this.output.push(JSON.stringify(r.output));
      this.prediction.push(r.prediction ?? null);
      this.latency.push(r.latencyMs);
      this.features.push(JSON.stringify(r.features));
      this.reference.push(r.reference ?? null);
      this.shadow.push(r.shadow ? 1 : 0);
      if (r.seq < minSeq) minSeq = r.seq;
      if (r.seq > maxSeq) maxSeq = r.seq;
    }
    return { minSeq, maxSeq };
  }

  params(): unknown[] {
    return [
      numbers(this.seq),
      numbers(this.ts),
      this.model,
      numbers(this.version),
      this.requestId,
      this.output,
      numbers(this.prediction),
      numbers(this.latency),
      this.features,
      numbers(this.reference),
      numbers(this.shadow),
    ];
  }
}

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
  if (records.length === 0) return 0;
  const columns = new RecordColumns();
  const { minSeq, maxSeq } = columns.add(records);
  const { rows } = await run<{ added: number }>(INSERT_TELEMETRY, [
    deviceId,
    stream,
    ...columns.params(),
    minSeq,
    maxSeq,
    now,
    historical ? 1 : 0,
  ]);
  return Number(rows[0]!.added);
}

const STORE_BATCHES = `SELECT added, registered FROM edgeloop_store_batches($1::text[], $2::text[], $3::integer[],
  $4::integer[], $5::bigint[], $6::bigint[], $7::integer[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[],
  $12::text[], $13::integer[], $14::text[], $15::text[], $16::double precision[], $17::double precision[],
  $18::text[], $19::double precision[], $20::integer[], $21::bigint)`;

/**
 * The ingest's group commit in one call (edgeloop_store_batches): every batch's device made
 * known, records stored as insertTelemetry stores them, device touched. Run it inside a
 * transaction, batches in lock order (sorted by device and stream). Batches marked in `copied`
 * were stored by COPY in this transaction already: only their device is touched.
 */
export async function storeBatches(
  run: SqlRunner,
  batches: readonly IngestBatch[],
  now: number,
  copied?: readonly boolean[],
): Promise<StoredBatch[]> {
  if (batches.length === 0) return [];
  const n = batches.length;
  const device = new Array<string>(n);
  const stream = new Array<string>(n);
  const count = new Array<number>(n);
  const copiedCount = new Array<number>(n);
  const minSeq = new Array<number | null>(n);
  const maxSeq = new Array<number | null>(n);
  const historical = new Array<number>(n);
  const backlog = new Array<number | null>(n);
  const dropped = new Array<number | null>(n);
  const columns = new RecordColumns();
  for (let i = 0; i < n; i++) {
    const b = batches[i]!;
    const done = copied?.[i] === true;
    device[i] = b.deviceId;
    stream[i] = b.stream;
    count[i] = done ? 0 : b.records.length;
    copiedCount[i] = done ? b.records.length : 0;
    const range = done ? seqRange(b.records) : columns.add(b.records);
    minSeq[i] = b.records.length > 0 ? range.minSeq : null;
    maxSeq[i] = b.records.length > 0 ? range.maxSeq : null;
    historical[i] = b.historical ? 1 : 0;
    backlog[i] = b.backlog ?? null;
    dropped[i] = b.dropped ?? null;
  }
  const { rows } = await run<{ added: number[]; registered: boolean[] }>(STORE_BATCHES, [
    device,
    stream,
    numbers(count),
    numbers(copiedCount),
    numbers(minSeq),
    numbers(maxSeq),
    numbers(historical),
    numbers(backlog),
    numbers(dropped),
    ...columns.params(),
    now,
  ]);
  const { added, registered } = rows[0]!;
  return batches.map((_, i) => ({ added: Number(added[i]), registered: registered[i] === true }));
}

export function seqRange(records: readonly TelemetryRecord[]): { minSeq: number; maxSeq: number } {
  let minSeq = Infinity;
  let maxSeq = -Infinity;
  for (const r of records) {
    if (r.seq < minSeq) minSeq = r.seq;
    if (r.seq > maxSeq) maxSeq = r.seq;
  }
  return { minSeq, maxSeq };
}

/**
 * A PostgreSQL array literal of numbers. Numbers need no quoting, so this is one join instead of
 * node-postgres' per-element quoting and escaping — most of a batch's encoding time otherwise.
 */
export function numbers(values: ReadonlyArray<number | null>): string {
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

const STORED_SEQS = `SELECT seq, reference FROM telemetry
  WHERE device_id = $1 AND stream = $2 AND seq = ANY ($3::bigint[]) AND received_at = $4`;

const INSERT_ROLLUPS = `INSERT INTO rollups (model, version, role, scope, window_start, window_ms, body)
  SELECT * FROM unnest($1::text[], $2::integer[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bytea[])`;

/**
 * Folds the records a group commit stored into rollup rows, in its transaction. A batch COPY
 * stored (`copied`) was wholly new with no value waiting for it. Another batch that added
 * records is read back: its rows written at this receive time — the (device, stream) lock, held
 * until commit, keeps every other writer of the stream out, and a re-sent record keeps the
 * receive time of its first store — with the reference value they ended up with.
 */
export async function foldStored(
  run: SqlRunner,
  batches: readonly IngestBatch[],
  stored: readonly StoredBatch[],
  now: number,
  fold: BatchFold,
  copied?: readonly boolean[],
): Promise<void> {
  const fresh: Array<readonly TelemetryRecord[]> = [];
  for (let i = 0; i < batches.length; i++) {
    const b = batches[i]!;
    if (stored[i]!.added === 0) fresh.push([]);
    else if (copied?.[i] === true) fresh.push(b.records);
    else {
      const { rows } = await run<{ seq: number; reference: number | null }>(STORED_SEQS, [
        b.deviceId,
        b.stream,
        numbers(b.records.map((r) => r.seq)),
        now,
      ]);
      fresh.push(freshRecords(b.records, new Map(rows.map((r) => [Number(r.seq), r.reference]))));
    }
  }
  const rows = fold.rows(batches, fresh);
  if (rows.length === 0) return;
  await run(INSERT_ROLLUPS, [
    rows.map((r) => r.model),
    numbers(rows.map((r) => r.version)),
    rows.map((r) => r.role),
    rows.map((r) => r.scope),
    numbers(rows.map((r) => r.window_start)),
    numbers(rows.map((r) => r.window_ms)),
    rows.map((r) => Buffer.from(r.body)),
  ]);
}
