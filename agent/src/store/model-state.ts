/**
 * @module store/model-state
 * Which model versions this device accepted and runs. The last accepted version per model name
 * is persisted in the same transaction that activates it, so a replayed older manifest is
 * refused after a restart too.
 *
 * Two small records live in the `kv` table beside it (no schema change needed):
 * - probation (`model.probation.<name>`): a newly activated version, the version it replaced and
 *   how many starts it has had without running `healthyAfterMs`; the crash-loop guard reads it.
 * - failed versions (`model.failed.<name>`): versions that failed their health check or
 *   crash-looped. They never raised (or no longer raise) the accepted counter, so later fixes are
 *   not locked out, and they are refused for good, so replaying one cannot get it accepted.
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

export interface Probation {
  version: number;
  sha256: string;
  /** Process starts with this version active (the activating run counts as the first). */
  starts: number;
  /** What served before: restored by a crash-loop revert. */
  previous?: ActiveModelRow;
  /** The anti-rollback counter before this activation raised it. */
  previousAccepted?: { version: number; sha256: string };
}

export interface FailedVersion {
  version: number;
  sha256: string;
  code: string;
  reason: string;
  at: number;
}

/** Failed versions remembered per model; older ones are below the counter anyway. */
const MAX_FAILED = 32;

export class ModelState {
  constructor(private readonly db: AgentDb) {}

  active(): ActiveModelRow[] {
    const rows = this.db.prepare('SELECT * FROM models ORDER BY name').all() as Array<{
      name: string;
      version: number;
      sha256: string;
      path: string;
      envelope: string;
      activated_at: number;
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
      { version: number; sha256: string } | undefined;
  }

  /**
   * Records the activation and raises the anti-rollback counter in one transaction; the version
   * starts its probation (remembering what it replaced) in the same commit.
   */
  activate(row: Omit<ActiveModelRow, 'activatedAt'>): void {
    this.db.transaction(() => {
      const previous = this.active().find((r) => r.name === row.name);
      const previousAccepted = this.lastAccepted(row.name);
      this.writeActive({ ...row, activatedAt: Date.now() });
      this.db
        .prepare(
          `INSERT INTO accepted_versions (name, version, sha256) VALUES (?, ?, ?)
           ON CONFLICT(name) DO UPDATE SET version = excluded.version, sha256 = excluded.sha256
           WHERE excluded.version > accepted_versions.version`,
        )
        .run(row.name, row.version, row.sha256);
      const probation: Probation = {
        version: row.version,
        sha256: row.sha256,
        starts: 1,
        ...(previous && previous.version !== row.version ? { previous } : {}),
        ...(previousAccepted ? { previousAccepted } : {}),
      };
      this.setKv(`model.probation.${row.name}`, JSON.stringify(probation));
    })();
  }

  /**
   * Replaces the stored envelope of the running version with a re-signed one (same version and
   * artifact; new expiry or signing key). activated_at is when the stored envelope was verified,
   * so it moves too: a restart judges the new envelope as of now. Returns whether anything changed.
   */
  refreshEnvelope(name: string, version: number, sha256: string, envelope: SignedEnvelope, now = Date.now()): boolean {
    const text = JSON.stringify(envelope);
    return (
      this.db
        .prepare(
          'UPDATE models SET envelope = ?, activated_at = ? WHERE name = ? AND version = ? AND sha256 = ? AND envelope != ?',
        )
        .run(text, now, name, version, sha256, text).changes > 0
    );
  }

  deactivate(name: string): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM models WHERE name = ?').run(name);
      this.deleteKv(`model.probation.${name}`);
    })();
  }

  probation(name: string): Probation | undefined {
    const text = this.getKv(`model.probation.${name}`);
    return text ? (JSON.parse(text) as Probation) : undefined;
  }

  /** Counts one more start of the probationary version; returns the new count. */
  countStart(name: string): number {
    const p = this.probation(name);
    if (!p) return 0;
    p.starts++;
    this.setKv(`model.probation.${name}`, JSON.stringify(p));
    return p.starts;
  }

  /** The version ran long enough: it is no longer a revert candidate. */
  endProbation(name: string, version: number): void {
    if (this.probation(name)?.version === version) this.deleteKv(`model.probation.${name}`);
  }

  /**
   * Crash-loop revert, one transaction: the probationary version is marked failed, the previous
   * row serves again, and the accepted counter goes back to what it was before the failed version
   * raised it (the failed version itself stays refused through its failed mark). Returns the
   * previous row, or undefined when there was none (the model is then deactivated).
   */
  revert(name: string, failure: Pick<FailedVersion, 'code' | 'reason'>): ActiveModelRow | undefined {
    return this.db.transaction(() => {
      const p = this.probation(name);
      if (!p) return undefined;
      if (p.previousAccepted) {
        this.db
          .prepare('UPDATE accepted_versions SET version = ?, sha256 = ? WHERE name = ?')
          .run(p.previousAccepted.version, p.previousAccepted.sha256, name);
      } else {
        this.db.prepare('DELETE FROM accepted_versions WHERE name = ?').run(name);
      }
      // After lowering the counter, so failed versions between the two counters are kept.
      this.markFailed(name, { version: p.version, sha256: p.sha256, ...failure });
      if (p.previous) this.writeActive(p.previous);
      else this.db.prepare('DELETE FROM models WHERE name = ?').run(name);
      this.deleteKv(`model.probation.${name}`);
      return p.previous;
    })();
  }

  failedVersion(name: string, version: number): FailedVersion | undefined {
    return this.failedVersions(name).find((f) => f.version === version);
  }

  /** Remembers a version that must never be accepted on this device. */
  markFailed(name: string, failed: Omit<FailedVersion, 'at'>): void {
    const floor = this.lastAccepted(name)?.version ?? 0;
    const kept = this.failedVersions(name).filter((f) => f.version !== failed.version && f.version > floor);
    kept.push({ ...failed, at: Date.now() });
    this.setKv(`model.failed.${name}`, JSON.stringify(kept.slice(-MAX_FAILED)));
  }

  private failedVersions(name: string): FailedVersion[] {
    const text = this.getKv(`model.failed.${name}`);
    return text ? (JSON.parse(text) as FailedVersion[]) : [];
  }

  private writeActive(row: ActiveModelRow): void {
    this.db
      .prepare(
        `INSERT INTO models (name, version, sha256, path, envelope, activated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET version = excluded.version, sha256 = excluded.sha256, path = excluded.path,
           envelope = excluded.envelope, activated_at = excluded.activated_at`,
      )
      .run(row.name, row.version, row.sha256, row.path, JSON.stringify(row.envelope), row.activatedAt);
  }

  private getKv(key: string): string | undefined {
    return (this.db.prepare('SELECT value FROM kv WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  private setKv(key: string, value: string): void {
    this.db
      .prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value')
      .run(key, value);
  }

  private deleteKv(key: string): void {
    this.db.prepare('DELETE FROM kv WHERE key = ?').run(key);
  }
}
