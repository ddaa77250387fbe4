/**
 * @module store/model-store
 * Registered model versions: the signed manifest (replaced when the version is re-signed for
 * expiry or after a key rotation), the registry's metadata, status and lineage. Artifacts
 * themselves live on disk, content-addressed (registry/artifact-store.ts).
 *
 * It also answers the version-centred questions about assignments, serving (`assignments`) and
 * shadow (`shadow_assignments`, deploy/shadow-assignments.ts) alike: which devices a version is
 * on, dropping a revoked version everywhere. The per-device view is device-store.ts.
 */
import type { Manifest, ModelLineage, ModelStatus, SignedEnvelope, TrainingSummary } from '@edgeloop/protocol';
import type { FleetDb } from './fleet-db.js';

export interface ModelMetadataColumns {
  description: string | null;
  labels: Record<string, string>;
  metrics: Record<string, number>;
  trainingSummary: TrainingSummary | null;
  lineage: ModelLineage;
}

export interface ModelVersionRow extends ModelMetadataColumns {
  name: string;
  version: number;
  sha256: string;
  size: number;
  envelope: SignedEnvelope;
  manifest: Manifest;
  keyId: string;
  createdAt: number;
  status: ModelStatus;
  statusReason: string | null;
  statusAt: number | null;
  /** Last time the manifest was re-signed (expiry or key rotation); null = as registered. */
  resignedAt: number | null;
}

export type NewModelVersion = Omit<ModelVersionRow, 'status' | 'statusReason' | 'statusAt' | 'resignedAt'>;

interface Row {
  name: string; version: number; sha256: string; size: number; envelope: string; manifest: string; key_id: string; created_at: number;
  status: string; status_reason: string | null; status_at: number | null; description: string | null; labels: string; metrics: string;
  training_summary: string | null; lineage: string; resigned_at: number | null;
}

const toRow = (r: Row): ModelVersionRow => ({
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
  labels: JSON.parse(r.labels) as Record<string, string>,
  metrics: JSON.parse(r.metrics) as Record<string, number>,
  trainingSummary: r.training_summary ? (JSON.parse(r.training_summary) as TrainingSummary) : null,
  lineage: JSON.parse(r.lineage) as ModelLineage,
  resignedAt: r.resigned_at,
});

export class ModelStore {
  constructor(private readonly db: FleetDb) {}

  latestVersion(name: string): number {
    return (this.db.prepare('SELECT max(version) AS v FROM model_versions WHERE name = ?').get(name) as { v: number | null }).v ?? 0;
  }

  insert(row: NewModelVersion): void {
    this.db
      .prepare(
        `INSERT INTO model_versions (name, version, sha256, size, envelope, manifest, key_id, created_at, description, labels, metrics, training_summary, lineage)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        row.name, row.version, row.sha256, row.size, JSON.stringify(row.envelope), JSON.stringify(row.manifest), row.keyId, row.createdAt,
        row.description, JSON.stringify(row.labels), JSON.stringify(row.metrics), row.trainingSummary ? JSON.stringify(row.trainingSummary) : null,
        JSON.stringify(row.lineage),
      );
  }

  get(name: string, version: number): ModelVersionRow | undefined {
    const r = this.db.prepare('SELECT * FROM model_versions WHERE name = ? AND version = ?').get(name, version) as Row | undefined;
    return r ? toRow(r) : undefined;
  }

  list(): ModelVersionRow[] {
    return (this.db.prepare('SELECT * FROM model_versions ORDER BY name, version DESC').all() as Row[]).map(toRow);
  }

  versionsOf(name: string): ModelVersionRow[] {
    return (this.db.prepare('SELECT * FROM model_versions WHERE name = ? ORDER BY version DESC').all(name) as Row[]).map(toRow);
  }

  hasArtifact(sha256: string): boolean {
    return this.db.prepare('SELECT 1 FROM model_versions WHERE sha256 = ?').get(sha256) !== undefined;
  }

  /** A re-signed manifest of the same version and artifact replaces the stored one. */
  replaceEnvelope(name: string, version: number, envelope: SignedEnvelope, manifest: Manifest, keyId: string, now = Date.now()): void {
    this.db
      .prepare('UPDATE model_versions SET envelope = ?, manifest = ?, key_id = ?, resigned_at = ? WHERE name = ? AND version = ?')
      .run(JSON.stringify(envelope), JSON.stringify(manifest), keyId, now, name, version);
  }

  setStatus(name: string, version: number, status: ModelStatus, reason: string | null, now = Date.now()): void {
    this.db.prepare('UPDATE model_versions SET status = ?, status_reason = ?, status_at = ? WHERE name = ? AND version = ?').run(status, reason, now, name, version);
  }

  /** Every (model, version) assigned to at least one device, in any role. */
  assignedVersions(): Array<{ name: string; version: number }> {
    return this.db
      .prepare('SELECT model AS name, version FROM assignments UNION SELECT model AS name, version FROM shadow_assignments ORDER BY name, version')
      .all() as Array<{ name: string; version: number }>;
  }

  /** Devices this version is assigned to (any role). */
  assignedDevices(name: string, version: number): string[] {
    const rows = this.db
      .prepare('SELECT device_id FROM assignments WHERE model = ? AND version = ? UNION SELECT device_id FROM shadow_assignments WHERE model = ? AND version = ? ORDER BY device_id')
      .all(name, version, name, version) as Array<{ device_id: string }>;
    return rows.map((r) => r.device_id);
  }

  /** Every device with any assignment (their desired states carry the keyset). */
  devicesWithAssignments(): string[] {
    const rows = this.db.prepare('SELECT device_id FROM assignments UNION SELECT device_id FROM shadow_assignments ORDER BY device_id').all() as Array<{ device_id: string }>;
    return rows.map((r) => r.device_id);
  }

  /** Drops this version from every device, serving and shadow (revocation); returns the devices it was on. */
  removeAssignments(name: string, version: number): string[] {
    return this.db.transaction(() => {
      const devices = this.assignedDevices(name, version);
      this.db.prepare('DELETE FROM assignments WHERE model = ? AND version = ?').run(name, version);
      this.db.prepare('DELETE FROM shadow_assignments WHERE model = ? AND version = ?').run(name, version);
      return devices;
    })();
  }
}
