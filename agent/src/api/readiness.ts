/**
 * @module api/readiness
 * Can the agent take a prediction right now? Ready means: at least one model is active (else
 * every predict would 404) and the buffer is writable (else every predict would fail after the
 * inference, because a prediction is only answered once its record is on disk).
 *
 * "Writable" is probed the way an append writes: take SQLite's write lock and insert into the
 * database, then roll back. The rollback means nothing reaches the disk, so a probe every few
 * seconds costs no flash wear; a read-only file, a lost directory or a stuck lock all fail it.
 */
import type { AgentDb } from '../store/agent-db.js';

export interface Readiness {
  ready: boolean;
  /** Why not, each with what to do about it; empty when ready. */
  reasons: string[];
}

export function bufferWriteProbe(db: AgentDb): () => string | undefined {
  return () => {
    // better-sqlite3 is synchronous: a transaction open here belongs to the caller's own stack.
    if (db.inTransaction) return undefined;
    try {
      db.exec(
        "BEGIN IMMEDIATE; INSERT INTO kv (key, value) VALUES ('ready-probe', '1') ON CONFLICT(key) DO UPDATE SET value = excluded.value; ROLLBACK",
      );
      return undefined;
    } catch (err) {
      try {
        if (db.inTransaction) db.exec('ROLLBACK');
      } catch {
        // The connection is gone; the message below says why.
      }
      return (err as Error).message;
    }
  };
}

export function checkReadiness(activeModels: number, probeBuffer: () => string | undefined): Readiness {
  const reasons: string[] = [];
  if (activeModels === 0)
    reasons.push('no model is active yet; deploy one from the fleet server (edgeloop deploy NAME@VERSION --device ID)');
  const bufferError = probeBuffer();
  if (bufferError !== undefined)
    reasons.push(`the record buffer is not writable (${bufferError}); check the data directory's disk and permissions`);
  return { ready: reasons.length === 0, reasons };
}
