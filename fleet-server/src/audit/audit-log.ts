/**
 * @module audit/audit-log
 * Who changed what, when: every state-changing API call and every automatic decision (a rollout
 * pausing itself, a manifest re-signed) is written here. Rows are only ever appended.
 */
import type { AuditEntrySummary } from '@edgeloop/protocol';
import type { AuditQuery, FleetStore } from '../store/fleet-store.js';

/** actor: admin token name, `device:<id>`, or `system`; action: dotted verb, e.g. `rollout.pause`. */
export type AuditEntry = AuditEntrySummary;
export type { AuditQuery };

export class AuditLog {
  constructor(private readonly store: FleetStore) {}

  record(
    actor: string,
    action: string,
    target: string | null,
    details: Record<string, unknown> = {},
    now = Date.now(),
  ): Promise<void> {
    return this.store.audit.append({ ts: now, actor, action, target, details });
  }

  list(q: AuditQuery = {}): Promise<AuditEntry[]> {
    return this.store.audit.list(q);
  }
}
