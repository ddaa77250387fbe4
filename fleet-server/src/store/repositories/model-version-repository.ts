/**
 * @module store/repositories/model-version-repository
 * The `model_versions` table: each registered version's signed manifest (replaced when re-signed),
 * the registry's metadata, status and lineage. Artifacts live on disk, content-addressed.
 */
import type { Selectable } from 'kysely';
import type { Manifest, ModelLineage, ModelStatus, SignedEnvelope, TrainingSummary } from '@edgeloop/protocol';
import type { ModelVersionRepository } from '../fleet-store.js';
import type { ModelVersionsTable } from '../schema.js';
import type { ModelVersionRecord, NewModelVersion } from '../store-types.js';
import { count, parseJson, type RepositoryContext } from './context.js';

const toRecord = (r: Selectable<ModelVersionsTable>): ModelVersionRecord => ({
  name: r.name,
  version: r.version,
  sha256: r.sha256,
  size: r.size,
  envelope: JSON.parse(r.envelope) as SignedEnvelope,
  manifest: JSON.parse(r.manifest) as Manifest,
  keyId: r.key_id,
  createdAt: r.created_at,
  status: r.status as ModelStatus,
  statusReason: r.status_reason,
  statusAt: r.status_at,
  description: r.description,
  labels: parseJson<Record<string, string>>(r.labels, {}),
  metrics: parseJson<Record<string, number>>(r.metrics, {}),
  trainingSummary: parseJson<TrainingSummary | null>(r.training_summary, null),
  lineage: parseJson<ModelLineage>(r.lineage, {}),
  resignedAt: r.resigned_at,
});

export class KyselyModelVersionRepository implements ModelVersionRepository {
  constructor(private readonly ctx: RepositoryContext) {}

  async latestVersion(name: string): Promise<number> {
    const r = await this.ctx
      .db()
      .selectFrom('model_versions')
      .select((eb) => eb.fn.max('version').as('v'))
      .where('name', '=', name)
      .executeTakeFirst();
    return Number(r?.v ?? 0);
  }

  async insert(row: NewModelVersion): Promise<boolean> {
    const r = await this.ctx
      .db()
      .insertInto('model_versions')
      .values({
        name: row.name,
        version: row.version,
        sha256: row.sha256,
        size: row.size,
        envelope: JSON.stringify(row.envelope),
        manifest: JSON.stringify(row.manifest),
        key_id: row.keyId,
        created_at: row.createdAt,
        description: row.description,
        labels: JSON.stringify(row.labels),
        metrics: JSON.stringify(row.metrics),
        training_summary: row.trainingSummary ? JSON.stringify(row.trainingSummary) : null,
        lineage: JSON.stringify(row.lineage),
      })
      .onConflict((oc) => oc.columns(['name', 'version']).doNothing())
      .executeTakeFirst();
    return count(r.numInsertedOrUpdatedRows) > 0;
  }

  async get(name: string, version: number): Promise<ModelVersionRecord | undefined> {
    const r = await this.ctx
      .db()
      .selectFrom('model_versions')
      .selectAll()
      .where('name', '=', name)
      .where('version', '=', version)
      .executeTakeFirst();
    return r && toRecord(r);
  }

  async list(): Promise<ModelVersionRecord[]> {
    return (
      await this.ctx.db().selectFrom('model_versions').selectAll().orderBy('name').orderBy('version', 'desc').execute()
    ).map(toRecord);
  }

  async versionsOf(name: string): Promise<ModelVersionRecord[]> {
    return (
      await this.ctx
        .db()
        .selectFrom('model_versions')
        .selectAll()
        .where('name', '=', name)
        .orderBy('version', 'desc')
        .execute()
    ).map(toRecord);
  }

  async withArtifact(sha256: string): Promise<Array<{ name: string; version: number; size: number }>> {
    return this.ctx
      .db()
      .selectFrom('model_versions')
      .select(['name', 'version', 'size'])
      .where('sha256', '=', sha256)
      .orderBy('name')
      .orderBy('version')
      .execute();
  }

  async replaceEnvelope(
    name: string,
    version: number,
    envelope: SignedEnvelope,
    manifest: Manifest,
    keyId: string,
    now = Date.now(),
  ): Promise<void> {
    await this.ctx
      .db()
      .updateTable('model_versions')
      .set({ envelope: JSON.stringify(envelope), manifest: JSON.stringify(manifest), key_id: keyId, resigned_at: now })
      .where('name', '=', name)
      .where('version', '=', version)
      .execute();
  }

  async setStatus(
    name: string,
    version: number,
    status: ModelStatus,
    reason: string | null,
    now = Date.now(),
  ): Promise<void> {
    await this.ctx
      .db()
      .updateTable('model_versions')
      .set({ status, status_reason: reason, status_at: now })
      .where('name', '=', name)
      .where('version', '=', version)
      .execute();
  }
}
