/**
 * @module store/model-store
 * Registered model versions with their signed manifests. Artifacts themselves live on disk,
 * content-addressed (registry/artifact-store.ts).
 */
import type { Manifest, SignedEnvelope } from '@edgeloop/protocol';
import type { FleetDb } from './fleet-db.js';

export interface ModelVersionRow {
  name: string;
  version: number;
  sha256: string;
  size: number;
  envelope: SignedEnvelope;
  manifest: Manifest;
  keyId: string;
  createdAt: number;
}

interface Row { name: string; version: number; sha256: string; size: number; envelope: string; manifest: string; key_id: string; created_at: number }

const toRow = (r: Row): ModelVersionRow => ({
  name: r.name,
  version: r.version,
  sha256: r.sha256,
  size: r.size,
  envelope: JSON.parse(r.envelope) as SignedEnvelope,
  manifest: JSON.parse(r.manifest) as Manifest,
  keyId: r.key_id,
  createdAt: r.created_at,
});

export class ModelStore {
  constructor(private readonly db: FleetDb) {}

  latestVersion(name: string): number {
    return (this.db.prepare('SELECT max(version) AS v FROM model_versions WHERE name = ?').get(name) as { v: number | null }).v ?? 0;
  }

  insert(row: ModelVersionRow): void {
    this.db
      .prepare('INSERT INTO model_versions (name, version, sha256, size, envelope, manifest, key_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(row.name, row.version, row.sha256, row.size, JSON.stringify(row.envelope), JSON.stringify(row.manifest), row.keyId, row.createdAt);
  }

  get(name: string, version: number): ModelVersionRow | undefined {
    const r = this.db.prepare('SELECT * FROM model_versions WHERE name = ? AND version = ?').get(name, version) as Row | undefined;
    return r ? toRow(r) : undefined;
  }

  list(): ModelVersionRow[] {
    return (this.db.prepare('SELECT * FROM model_versions ORDER BY name, version DESC').all() as Row[]).map(toRow);
  }

  hasArtifact(sha256: string): boolean {
    return this.db.prepare('SELECT 1 FROM model_versions WHERE sha256 = ?').get(sha256) !== undefined;
  }
}
