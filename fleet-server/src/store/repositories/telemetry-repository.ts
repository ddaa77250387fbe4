/**
 * @module store/repositories/telemetry-repository
 * `telemetry` and `pending_references`. Records are keyed (device, stream, seq): an insert skips
 * what is stored already, so agents re-send anything without an ack. A late reference value
 * (measured after its prediction was synced) sets `reference` on its record; if the record is
 * not stored yet the value waits in pending_references and the insert that stores the record
 * applies it, in the same transaction — whatever order the two arrive in, the record ends up
 * with its reference, and sending either again changes nothing.
 *
 * Each new record, and each record's first reference value, is folded into the rollups in the
 * same transaction (ingest-rollups.ts); live error and drift are read from those.
 */
import type { Selectable } from 'kysely';
import type { TelemetryRecord, TelemetryRow } from '@edgeloop/protocol';
import {
  PENDING_REFERENCE_TTL_MS,
  type DeviceRepository,
  type IngestBatch,
  type StoredBatch,
  type TelemetryQuery,
  type TelemetryRepository,
} from '../fleet-store.js';
import type { TelemetryTable } from '../schema.js';
import { count, type RepositoryContext } from './context.js';
import { IngestRollups, type BatchFold, type LateReference } from './ingest-rollups.js';
import type { RollupRepository } from '../rollup-store-types.js';

/** Writes new telemetry rows and returns how many were new; a database may bring a faster one. */
export interface TelemetryWriter {
  insertRows(
    deviceId: string,
    stream: string,
    records: readonly TelemetryRecord[],
    now: number,
    historical: boolean,
  ): Promise<number>;
  /** A database's own way to set a batch of late reference values at once (default: one UPDATE per value). */
  setReferences?(
    deviceId: string,
    stream: string,
    updates: ReadonlyArray<{ seq: number; reference: number }>,
    now: number,
  ): Promise<{ applied: number; pending: number }>;
  /**
   * A database's own group commit for the ingest (default: devices.ensure, insertRows, pending
   * references and devices.touch per batch through Kysely). Called inside a unit of work, with
   * the batches sorted by (device, stream), a device's in their order. With `fold`, the records
   * that were new (with any reference value that waited for them) are folded into rollup rows
   * stored in the same transaction (see freshRecords).
   */
  storeBatches?(batches: readonly IngestBatch[], now: number, fold?: BatchFold): Promise<StoredBatch[]>;
  /**
   * The same, in a transaction of the writer's own, committed before it resolves: called instead
   * of storeBatches outside a unit of work, where the writer may use what a Kysely transaction
   * cannot (PostgreSQL's COPY).
   */
  commitBatches?(batches: readonly IngestBatch[], now: number, fold?: BatchFold): Promise<StoredBatch[]>;
  /** See TelemetryRepository.parallelWrites (default 1). */
  readonly parallelWrites?: number;
}

/**
 * The records of a batch that were stored, given what the database holds for their seqs after the
 * insert (`stored`: seq → reference, only rows this insert wrote): the first of each seq, with the
 * stored reference (a late value that waited for it, or its own).
 */
export function freshRecords(
  records: readonly TelemetryRecord[],
  stored: ReadonlyMap<number, number | null>,
): TelemetryRecord[] {
  const out: TelemetryRecord[] = [];
  const seen = new Set<number>();
  for (const r of records) {
    if (!stored.has(r.seq) || seen.has(r.seq)) continue;
    seen.add(r.seq);
    const reference = stored.get(r.seq) ?? null;
    out.push(reference === (r.reference ?? null) ? r : { ...r, reference });
  }
  return out;
}

/** Batch indices sorted by (device, stream), stable, so a device's batches keep their order. */
function lockOrder(batches: readonly IngestBatch[]): number[] {
  const order = batches.map((_, i) => i);
  const key = (i: number) => batches[i]!.deviceId + '\u0000' + batches[i]!.stream;
  return order.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : a - b;
  });
}

const toRow = (r: Selectable<TelemetryTable>): TelemetryRow => ({
  id: Number(r.id),
  deviceId: r.device_id,
  stream: r.stream,
  seq: r.seq,
  ts: r.ts,
  receivedAt: r.received_at,
  model: r.model,
  version: r.version,
  requestId: r.request_id,
  output: JSON.parse(r.output) as number[],
  prediction: r.prediction,
  latencyMs: r.latency_ms,
  features: JSON.parse(r.features) as Record<string, number>,
  reference: r.reference,
  historical: r.historical === 1,
  shadow: r.shadow === 1,
});

export class KyselyTelemetryRepository implements TelemetryRepository {
  readonly parallelWrites: number;
  private readonly ingestRollups: IngestRollups;

  constructor(
    private readonly ctx: RepositoryContext,
    private readonly writer: TelemetryWriter,
    private readonly devices: DeviceRepository,
    private readonly rollups: RollupRepository,
  ) {
    this.parallelWrites = writer.parallelWrites ?? 1;
    this.ingestRollups = new IngestRollups(ctx);
  }

  async storeBatches(batches: readonly IngestBatch[], now = Date.now()): Promise<StoredBatch[]> {
    if (batches.length === 0) return [];
    const order = lockOrder(batches);
    const sorted = order.map((i) => batches[i]!);
    const { writer } = this;
    const restore = (stored: StoredBatch[]) => {
      const out = new Array<StoredBatch>(batches.length);
      order.forEach((original, k) => (out[original] = stored[k]!));
      return out;
    };
    const fold = await this.ingestRollups.prepareBatches(sorted);
    if (writer.commitBatches && !this.ctx.inTransaction()) return writer.commitBatches(sorted, now, fold).then(restore);
    return this.ctx.atomic(async () => {
      const stored = this.writer.storeBatches
        ? await this.writer.storeBatches(sorted, now, fold)
        : await this.storeEach(sorted, now, fold);
      return restore(stored);
    });
  }

  private async storeEach(batches: readonly IngestBatch[], now: number, fold: BatchFold): Promise<StoredBatch[]> {
    const out: StoredBatch[] = [];
    for (const b of batches) {
      const registered = await this.devices.ensure(b.deviceId, now);
      const added = await this.insertFolded(b, now, fold);
      await this.devices.touch(b.deviceId, b.backlog, added, b.dropped, now);
      out.push({ added, registered });
    }
    return out;
  }

  async insertBatch(
    deviceId: string,
    stream: string,
    records: readonly TelemetryRecord[],
    now = Date.now(),
    historical = false,
  ): Promise<number> {
    if (records.length === 0) return 0;
    const batch: IngestBatch = { deviceId, stream, records, historical };
    const fold = await this.ingestRollups.prepareBatches([batch]);
    return this.ctx.atomic(() => this.insertFolded(batch, now, fold));
  }

  /** insertBatch's work inside its transaction: the records, waiting references, and their rollups. */
  private async insertFolded(b: IngestBatch, now: number, fold: BatchFold): Promise<number> {
    if (b.records.length === 0) return 0;
    const seqs = [...new Set(b.records.map((r) => r.seq))];
    const before = new Set<number>();
    for (let i = 0; i < seqs.length; i += 500) {
      const rows = await this.ctx
        .db()
        .selectFrom('telemetry')
        .select('seq')
        .where('device_id', '=', b.deviceId)
        .where('stream', '=', b.stream)
        .where('seq', 'in', seqs.slice(i, i + 500))
        .execute();
      for (const r of rows) before.add(Number(r.seq));
    }
    const added = await this.writer.insertRows(b.deviceId, b.stream, b.records, now, b.historical);
    if (added === 0) return 0;
    await this.applyPending(b.deviceId, b.stream, b.records);
    const fresh = seqs.filter((s) => !before.has(s));
    const stored = new Map<number, number | null>();
    for (let i = 0; i < fresh.length; i += 500) {
      const rows = await this.ctx
        .db()
        .selectFrom('telemetry')
        .select(['seq', 'reference'])
        .where('device_id', '=', b.deviceId)
        .where('stream', '=', b.stream)
        .where('seq', 'in', fresh.slice(i, i + 500))
        .execute();
      for (const r of rows) stored.set(Number(r.seq), r.reference);
    }
    await this.rollups.add(fold.deltas([b], [freshRecords(b.records, stored)]));
    return added;
  }

  /** Late reference values that waited for these records. */
  private async applyPending(deviceId: string, stream: string, records: readonly TelemetryRecord[]): Promise<void> {
    let lo = Infinity;
    let hi = -Infinity;
    for (const r of records) {
      if (r.seq < lo) lo = r.seq;
      if (r.seq > hi) hi = r.seq;
    }
    const db = this.ctx.db();
    const waiting = await db
      .selectFrom('pending_references')
      .select(['seq', 'reference'])
      .where('device_id', '=', deviceId)
      .where('stream', '=', stream)
      .where('seq', '>=', lo)
      .where('seq', '<=', hi)
      .execute();
    if (waiting.length === 0) return;
    for (const p of waiting) {
      const res = await db
        .updateTable('telemetry')
        .set({ reference: p.reference })
        .where('device_id', '=', deviceId)
        .where('stream', '=', stream)
        .where('seq', '=', p.seq)
        .executeTakeFirst();
      if (count(res.numUpdatedRows) > 0) {
        await db
          .deleteFrom('pending_references')
          .where('device_id', '=', deviceId)
          .where('stream', '=', stream)
          .where('seq', '=', p.seq)
          .execute();
      }
    }
  }

  /**
   * Sets the values (setReferences) and folds those that gave a stored record its first reference
   * into the record's rollups, in the same transaction. A value replacing an earlier one changes
   * the record but not its rollups: a merged rollup cannot take a value back out.
   */
  updateReferences(
    deviceId: string,
    stream: string,
    updates: ReadonlyArray<{ seq: number; reference: number }>,
    now = Date.now(),
  ): Promise<{ applied: number; pending: number }> {
    if (updates.length === 0) return Promise.resolve({ applied: 0, pending: 0 });
    return this.ctx.atomic(async () => {
      const latest = new Map<number, number>();
      for (const u of updates) if (Number.isFinite(u.reference)) latest.set(u.seq, u.reference);
      const late: LateReference[] = [];
      const seqs = [...latest.keys()];
      for (let i = 0; i < seqs.length; i += 500) {
        const rows = await this.ctx
          .db()
          .selectFrom('telemetry')
          .select(['seq', 'model', 'version', 'shadow', 'ts', 'prediction'])
          .where('device_id', '=', deviceId)
          .where('stream', '=', stream)
          .where('seq', 'in', seqs.slice(i, i + 500))
          .where('reference', 'is', null)
          .execute();
        for (const r of rows)
          late.push({
            deviceId,
            model: r.model,
            version: r.version,
            shadow: r.shadow === 1,
            ts: Number(r.ts),
            prediction: r.prediction,
            reference: latest.get(Number(r.seq))!,
          });
      }
      const result = await this.setReferences(deviceId, stream, updates, now);
      if (late.length > 0) {
        const fold = await this.ingestRollups.prepare([deviceId], late);
        await this.rollups.add(fold.lateDeltas(late));
      }
      return result;
    });
  }

  private setReferences(
    deviceId: string,
    stream: string,
    updates: ReadonlyArray<{ seq: number; reference: number }>,
    now: number,
  ): Promise<{ applied: number; pending: number }> {
    const { writer } = this;
    if (writer.setReferences)
      return this.ctx.atomic(async () => {
        const result = await writer.setReferences!(deviceId, stream, updates, now);
        if (result.pending > 0) await this.dropExpiredPending(now);
        return result;
      });
    return this.ctx.atomic(async () => {
      const db = this.ctx.db();
      let applied = 0;
      let pending = 0;
      for (const u of updates) {
        const res = await db
          .updateTable('telemetry')
          .set({ reference: u.reference })
          .where('device_id', '=', deviceId)
          .where('stream', '=', stream)
          .where('seq', '=', u.seq)
          .executeTakeFirst();
        if (count(res.numUpdatedRows) > 0) {
          applied++;
          continue;
        }
        await db
          .insertInto('pending_references')
          .values({ device_id: deviceId, stream, seq: u.seq, reference: u.reference, received_at: now })
          .onConflict((oc) =>
            oc.columns(['device_id', 'stream', 'seq']).doUpdateSet((eb) => ({
              reference: eb.ref('excluded.reference'),
              received_at: eb.ref('excluded.received_at'),
            })),
          )
          .execute();
        pending++;
      }
      if (pending > 0) await this.dropExpiredPending(now);
      return { applied, pending };
    });
  }

  /** A waiting value whose record never came (dropped by the device's buffer cap) must not wait forever. */
  private async dropExpiredPending(now: number): Promise<void> {
    await this.ctx
      .db()
      .deleteFrom('pending_references')
      .where('received_at', '<', now - PENDING_REFERENCE_TTL_MS)
      .execute();
  }

  async query(q: TelemetryQuery = {}): Promise<TelemetryRow[]> {
    let query = this.ctx.db().selectFrom('telemetry').selectAll();
    if (q.device) query = query.where('device_id', '=', q.device);
    if (q.model) query = query.where('model', '=', q.model);
    if (q.version !== undefined) query = query.where('version', '=', q.version);
    if (q.afterId !== undefined) query = query.where('id', '>', q.afterId);
    if (q.shadow !== undefined) query = query.where('shadow', '=', q.shadow ? 1 : 0);
    const rows = await query
      .orderBy('id', q.order === 'oldest' ? 'asc' : 'desc')
      .limit(Math.min(Math.max(q.limit ?? 100, 1), 10_000))
      .execute();
    return rows.map(toRow);
  }

  async get(id: number): Promise<TelemetryRow | undefined> {
    const row = await this.ctx.db().selectFrom('telemetry').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRow(row);
  }

  async count(deviceId?: string): Promise<number> {
    let query = this.ctx
      .db()
      .selectFrom('telemetry')
      .select((eb) => eb.fn.countAll().as('n'));
    if (deviceId !== undefined) query = query.where('device_id', '=', deviceId);
    return Number((await query.executeTakeFirst())?.n ?? 0);
  }
}
