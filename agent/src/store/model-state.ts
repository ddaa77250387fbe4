/**
 * @module store/model-state
 * Which model versions this device accepted and runs. The last accepted version per model name
 * is persisted in the same transaction that activates it, so a replayed older manifest is
 * refused after a restart too.
 */
import type { SignedEnvelope } from '@edgeloop/protocol';
import type { AgentDb } from './agent-db.js';

export interface ActiveModelRow {
  name: string;
  version: number;
  sha256: string;
  path: string;
  envelope: SignedEnvelope;
  activatedAt: number;
}

export class ModelState {
  constructor(private readonly db: AgentDb) {}

  active(): ActiveModelRow[] {
    const rows = this.db.prepare('SELECT * FROM models ORDER BY name').all() as Array<{
      name: string; version: number; sha256: string; path: string; envelope: string; activated_at: number;
    }>;
    return rows.map((r) => ({
      name: r.name,
      version: r.version,
      sha256: r.sha256,
      path: r.path,
      envelope: JSON.parse(r.envelope) as SignedEnvelope,
      activatedAt: r.activated_at,
    }));
  }

  lastAccepted(name: string): { version: number; sha256: string } | undefined {
    return this.db.prepare('SELECT version, sha256 FROM accepted_versions WHERE name = ?').get(name) as
      | { version: number; sha256: string }
      | undefined;
  }

  /** Records the activation and raises the anti-rollback counter in one transaction. */
  activate(row: Omit<ActiveModelRow, 'activatedAt'>): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO models (name, version, sha256, path, envelope, activated_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT(name) DO UPDATE SET version = excluded.version, sha256 = excluded.sha256, path = excluded.path,
             envelope = excluded.envelope, activated_at = excluded.activated_at`,
        )
        .run(row.name, row.version, row.sha256, row.path, JSON.stringify(row.envelope), Date.now());
      this.db
        .prepare(
          `INSERT INTO accepted_versions (name, version, sha256) VALUES (?, ?, ?)
           ON CONFLICT(name) DO UPDATE SET version = excluded.version, sha256 = excluded.sha256
           WHERE excluded.version > accepted_versions.version`,
        )
        .run(row.name, row.version, row.sha256);
    })();
  }

  deactivate(name: string): void {
    this.db.prepare('DELETE FROM models WHERE name = ?').run(name);
  }
}
