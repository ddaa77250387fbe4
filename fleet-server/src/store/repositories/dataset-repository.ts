/**
 * @module store/repositories/dataset-repository
 * The `datasets` and `dataset_items` tables: immutable snapshots (their manifest as JSON) and
 * their items, keyed (dataset, sha256) and handed out in sha256 order, which is also the order
 * of the folder's file names (images/<sha256>.<ext>), so a page cursor is simply the last hash.
 */
import type { Selectable } from 'kysely';
import type { DatasetManifest, DatasetSplit } from '@edgeloop/protocol';
import type { DatasetItemRow, DatasetRecord, DatasetRepository, NewDataset } from '../fleet-store.js';
import type { DatasetItemsTable, DatasetsTable } from '../schema.js';
import { count, parseJson, type RepositoryContext } from './context.js';

/** Rows per INSERT: 14 columns each stays far below SQLite's and PostgreSQL's parameter limits. */
const INSERT_CHUNK = 500;
const MAX_PAGE = 10_000;

const toRecord = (r: Selectable<DatasetsTable>): DatasetRecord => ({
  id: r.id,
  name: r.name,
  description: r.description,
  createdAt: r.created_at,
  itemCount: r.item_count,
  manifest: JSON.parse(r.manifest) as DatasetManifest,
});

/** Only the fields a row has: an imported item usually names no device. */
function toItem(r: Selectable<DatasetItemsTable>): DatasetItemRow {
  const features = parseJson<Record<string, number> | null>(r.features, null);
  return {
    sha256: r.sha256,
    label: r.label,
    split: r.split as DatasetSplit,
    contentType: r.content_type,
    ...(r.device_id !== null ? { deviceId: r.device_id } : {}),
    ...(r.stream !== null ? { stream: r.stream } : {}),
    ...(r.seq !== null ? { seq: Number(r.seq) } : {}),
    ...(r.ts !== null ? { ts: Number(r.ts) } : {}),
    ...(r.model !== null ? { model: r.model } : {}),
    ...(r.version !== null ? { version: r.version } : {}),
    ...(r.reason !== null ? { reason: r.reason } : {}),
    ...(r.prediction !== null ? { prediction: r.prediction } : {}),
    ...(features ? { features } : {}),
  };
}

export class KyselyDatasetRepository implements DatasetRepository {
  constructor(private readonly ctx: RepositoryContext) {}

  insert(dataset: NewDataset, items: readonly DatasetItemRow[]): Promise<boolean> {
    return this.ctx.atomic(async () => {
      const r = await this.ctx
        .db()
        .insertInto('datasets')
        .values({
          id: dataset.id,
          name: dataset.name,
          description: dataset.description,
          created_at: dataset.createdAt,
          manifest: JSON.stringify(dataset.manifest),
          item_count: items.length,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      if (count(r.numInsertedOrUpdatedRows) === 0) return false;
      for (let i = 0; i < items.length; i += INSERT_CHUNK) {
        await this.ctx
          .db()
          .insertInto('dataset_items')
          .values(
            items.slice(i, i + INSERT_CHUNK).map((it) => ({
              dataset_id: dataset.id,
              sha256: it.sha256,
              label: it.label,
              split: it.split,
              content_type: it.contentType,
              device_id: it.deviceId ?? null,
              stream: it.stream ?? null,
              seq: it.seq ?? null,
              ts: it.ts ?? null,
              model: it.model ?? null,
              version: it.version ?? null,
              reason: it.reason ?? null,
              prediction: it.prediction ?? null,
              features: it.features ? JSON.stringify(it.features) : null,
            })),
          )
          .execute();
      }
      return true;
    });
  }

  async get(id: string): Promise<DatasetRecord | undefined> {
    const r = await this.ctx.db().selectFrom('datasets').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toRecord(r);
  }

  async list(): Promise<DatasetRecord[]> {
    const rows = await this.ctx
      .db()
      .selectFrom('datasets')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .execute();
    return rows.map(toRecord);
  }

  async items(id: string, q: { after?: string; limit?: number } = {}): Promise<DatasetItemRow[]> {
    let query = this.ctx.db().selectFrom('dataset_items').selectAll().where('dataset_id', '=', id);
    if (q.after !== undefined) query = query.where('sha256', '>', q.after);
    const limit = Math.min(Math.max(q.limit ?? MAX_PAGE, 1), MAX_PAGE);
    return (await query.orderBy('sha256').limit(limit).execute()).map(toItem);
  }

  async item(id: string, sha256: string): Promise<DatasetItemRow | undefined> {
    const r = await this.ctx
      .db()
      .selectFrom('dataset_items')
      .selectAll()
      .where('dataset_id', '=', id)
      .where('sha256', '=', sha256)
      .executeTakeFirst();
    return r && toItem(r);
  }

  remove(id: string): Promise<boolean> {
    return this.ctx.atomic(async () => {
      await this.ctx.db().deleteFrom('dataset_items').where('dataset_id', '=', id).execute();
      const r = await this.ctx.db().deleteFrom('datasets').where('id', '=', id).executeTakeFirst();
      return count(r.numDeletedRows) > 0;
    });
  }
}
