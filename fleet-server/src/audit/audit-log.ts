/**
 * @module audit/audit-log
 * Who changed what, when: every state-changing API call and every automatic decision (a rollout
 * pausing itself, a manifest re-signed) is written here. Rows are only ever appended.
 */
import type { AuditEntrySummary } from '@edgeloop/protocol';
import type { FleetDb } from '../store/fleet-db.js';

/** actor: admin token name, `device:<id>`, or `system`; action: dotted verb, e.g. `rollout.pause`. */
export type AuditEntry = AuditEntrySummary;

export interface AuditQuery {
  actor?: string;
  action?: string;
  target?: string;
  /** Only entries with id below this (paging backwards). */
  before?: number;
  limit?: number;
}

export class AuditLog {
  constructor(private readonly db: FleetDb) {}

  record(actor: string, action: string, target: string | null, details: Record<string, unknown> = {}, now = Date.now()): void {
    this.db.prepare('INSERT INTO audit_log (ts, actor, action, target, details) VALUES (?, ?, ?, ?, ?)').run(now, actor, action, target, JSON.stringify(details));
  }

  list(q: AuditQuery = {}): AuditEntry[] {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (clause: string, ...values: unknown[]) => {
      where.push(clause);
      args.push(...values);
    };
    if (q.actor) add('actor = ?', q.actor);
    if (q.action) add('(action = ? OR action LIKE ?)', q.action, `${q.action}.%`);
    if (q.target) add('target = ?', q.target);
    if (q.before) add('id < ?', q.before);
    const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, Math.min(q.limit ?? 100, 1000)) as Array<Omit<AuditEntry, 'details'> & { details: string }>;
    return rows.map((r) => ({ ...r, details: JSON.parse(r.details) as Record<string, unknown> }));
  }
}
