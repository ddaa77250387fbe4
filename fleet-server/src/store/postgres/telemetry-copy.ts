/**
 * @module store/postgres/telemetry-copy
 * The ingest's group commit on PostgreSQL, in a transaction of its own on a pooled connection:
 *   1. edgeloop_claim_batches: devices made known, (device, stream) locks taken, and which
 *      batches are plain (every seq above the highest stored, no reference value waiting);
 *   2. COPY of the plain batches' records straight into telemetry — PostgreSQL buffers a COPY's
 *      rows and writes them in bulk, which costs the server about half of what the same rows
 *      cost through INSERT … SELECT FROM unnest;
 *   3. edgeloop_store_batches for the rest (dedup, waiting reference values) and every device's
 *      counters, after the COPY so it sees the copied rows. A stream's batches after one that is
 *      not plain go this way too, so a stream's records get their ids in the order sent.
 * Exactly-once holds as in the one-call path (telemetry-sql.ts): a plain batch cannot meet a
 * stored copy of its records, and the locks keep it so until commit. Should a COPY still hit the
 * unique key (telemetry_streams behind the table, e.g. a partial restore), the group is stored
 * again through the one-call path, whose ON CONFLICT skips the duplicates.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { TelemetryRecord } from '@edgeloop/protocol';
import type { IngestBatch, StoredBatch } from '../fleet-store.js';
import type { BatchFold } from '../repositories/ingest-rollups.js';
import { foldStored, numbers, pgRunner, seqRange, storeBatches } from './telemetry-writer.js';

const CLAIM =
  'SELECT plain, registered FROM edgeloop_claim_batches($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint)';

const COPY_TELEMETRY = `COPY telemetry (device_id, stream, seq, ts, received_at, model, version, request_id, output,
  prediction, latency_ms, features, reference, historical, shadow) FROM STDIN`;

const UNIQUE_VIOLATION = '23505';

/** Stores and commits the group (batches in lock order); see the module comment. */
export async function commitBatches(
  pool: pg.Pool,
  batches: readonly IngestBatch[],
  now: number,
  fold?: BatchFold,
): Promise<StoredBatch[]> {
  try {
    return await inTransaction(pool, (client) => copyGroup(client, batches, now, fold));
  } catch (err) {
    if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
    return inTransaction(pool, async (client) => {
      const run = pgRunner(client);
      const stored = await storeBatches(run, batches, now);
      if (fold) await foldStored(run, batches, stored, now, fold);
      return stored;
    });
  }
}

async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    try {
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((rollback: Error) => (broken = rollback));
      throw err;
    }
  } finally {
    // A connection whose rollback failed is not handed to anyone else.
    client.release(broken);
  }
}

async function copyGroup(
  client: pg.PoolClient,
  batches: readonly IngestBatch[],
  now: number,
  fold: BatchFold | undefined,
): Promise<StoredBatch[]> {
  const ranges = batches.map((b) => seqRange(b.records));
  const { rows } = await client.query<{ plain: boolean[]; registered: boolean[] }>(CLAIM, [
    batches.map((b) => b.deviceId),
    batches.map((b) => b.stream),
    numbers(ranges.map((r, i) => (batches[i]!.records.length > 0 ? r.minSeq : null))),
    numbers(ranges.map((r, i) => (batches[i]!.records.length > 0 ? r.maxSeq : null))),
    now,
  ]);
  const { plain, registered } = rows[0]!;
  // A stream's batches after one that is not plain are not copied either: its records then keep
  // their ids in the order they were sent.
  const stalled = new Set<string>();
  const copied = batches.map((b, i) => {
    const key = `${b.deviceId}\u0000${b.stream}`;
    if (plain[i] === true && b.records.length > 0 && !stalled.has(key)) return true;
    stalled.add(key);
    return false;
  });
  if (copied.some(Boolean)) {
    const chunks = batches.filter((_, i) => copied[i]).map((b) => copyText(b, now));
    await pipeline(Readable.from(chunks), client.query(copyFrom(COPY_TELEMETRY)));
  }
  const run = pgRunner(client);
  const stored = await storeBatches(run, batches, now, copied);
  if (fold) await foldStored(run, batches, stored, now, fold, copied);
  return stored.map((s, i) => ({ added: s.added, registered: registered[i] === true }));
}

/** One batch as rows of COPY's text format, in COPY_TELEMETRY's column order. */
export function copyText(batch: IngestBatch, now: number): string {
  const head = `${text(batch.deviceId)}\t${text(batch.stream)}\t`;
  const flag = batch.historical ? 1 : 0;
  let out = '';
  for (const r of batch.records) out += head + row(r, now, flag);
  return out;
}

function row(r: TelemetryRecord, now: number, historical: number): string {
  return (
    `${r.seq}\t${r.ts}\t${now}\t${text(r.model)}\t${r.version}\t${r.requestId === undefined ? '\\N' : text(r.requestId)}\t` +
    `${text(JSON.stringify(r.output))}\t${num(r.prediction)}\t${r.latencyMs}\t${text(JSON.stringify(r.features))}\t` +
    `${num(r.reference)}\t${historical}\t${r.shadow ? 1 : 0}\n`
  );
}

const num = (v: number | null | undefined): string => (v === null || v === undefined ? '\\N' : String(v));

const SPECIAL = /[\\\t\n\r]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A text value in COPY's text format: backslash, tab and line breaks escaped. */
function text(value: string): string {
  return SPECIAL.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]!) : value;
}
