/**
 * @module store/update-report-store
 * Update reports (downloading → verified → active, rejected, failed, removed) waiting for the
 * fleet's ack, in the agent database, so a report made while offline or just before a crash still
 * reaches the fleet. Bounded: beyond MAX_QUEUED_REPORTS the oldest go (a device offline through
 * a long download reports progress every second; the birth carries the models it runs anyway).
 */
import type { UpdateReport } from '@edgeloop/protocol';
import type { AgentDb } from './agent-db.js';

/** A report as the update manager makes it; session, reportSeq, stream and id are stamped as it goes out. */
export type UpdateReportBody = Omit<UpdateReport, 'v' | 'ts' | 'session' | 'reportSeq' | 'stream' | 'id'>;

export interface QueuedReport {
  id: number;
  /** When the report was made (epoch ms). */
  ts: number;
  body: UpdateReportBody;
}

export const MAX_QUEUED_REPORTS = 1000;

export class UpdateReportStore {
  private readonly insert;
  private readonly selectAfter;
  private readonly deleteRange;
  private readonly countStmt;
  private readonly trim;

  constructor(db: AgentDb) {
    this.insert = db.prepare<[number, string]>('INSERT INTO update_reports (ts, body) VALUES (?, ?)');
    this.selectAfter = db.prepare<[number], { id: number; ts: number; body: string }>(
      'SELECT id, ts, body FROM update_reports WHERE id > ? ORDER BY id LIMIT 1',
    );
    this.deleteRange = db.prepare<[number, number]>('DELETE FROM update_reports WHERE id BETWEEN ? AND ?');
    this.countStmt = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM update_reports');
    this.trim = db.prepare<[number]>(`DELETE FROM update_reports WHERE id <= ? - ${MAX_QUEUED_REPORTS}`);
  }

  /** Stores a report; returns its position. */
  add(body: UpdateReportBody, ts = Date.now()): number {
    const id = Number(this.insert.run(ts, JSON.stringify(body)).lastInsertRowid);
    this.trim.run(id);
    return id;
  }

  /** The first report after position `id`. */
  after(id: number): QueuedReport | undefined {
    const row = this.selectAfter.get(id);
    return row ? { id: row.id, ts: row.ts, body: JSON.parse(row.body) as UpdateReportBody } : undefined;
  }

  remove(idFrom: number, idTo: number): number {
    return this.deleteRange.run(idFrom, idTo).changes;
  }

  count(): number {
    return this.countStmt.get()!.n;
  }
}
