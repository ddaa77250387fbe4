/**
 * @module monitoring/monitoring-queue
 * A durable queue of monitoring messages (local alerts, edge summaries) waiting for the fleet's
 * ack, in the agent database, so what happened while offline for days still arrives. Positions
 * are AUTOINCREMENT ids (never reused: an ack names the same rows across restarts). Bounded:
 * past `maxRows` the oldest go, counted.
 */
import type { AgentDb } from '../store/agent-db.js';

export const MONITORING_TABLES = ['local_alerts', 'edge_summaries'] as const;
export type MonitoringTable = (typeof MONITORING_TABLES)[number];

export interface Queued<T> {
  id: number;
  body: T;
}

export class MonitoringQueue<T> {
  private readonly insert;
  private readonly selectAfter;
  private readonly deleteRange;
  private readonly countStmt;
  private readonly trim;
  /** Rows dropped by the bound since start. */
  dropped = 0;
  /** Told after a row was added (the outbox wakes its lane). */
  onAdded: (() => void) | undefined;

  constructor(db: AgentDb, table: MonitoringTable, maxRows: number) {
    this.insert = db.prepare<[string]>(`INSERT INTO ${table} (body) VALUES (?)`);
    this.selectAfter = db.prepare<[number, number], { id: number; body: string }>(
      `SELECT id, body FROM ${table} WHERE id > ? ORDER BY id LIMIT ?`,
    );
    this.deleteRange = db.prepare<[number, number]>(`DELETE FROM ${table} WHERE id BETWEEN ? AND ?`);
    this.countStmt = db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${table}`);
    this.trim = db.prepare<[number]>(`DELETE FROM ${table} WHERE id <= ? - ${Math.floor(maxRows)}`);
  }

  /** Stores a message; returns its position. */
  add(body: T): number {
    const id = Number(this.insert.run(JSON.stringify(body)).lastInsertRowid);
    this.dropped += this.trim.run(id).changes;
    this.onAdded?.();
    return id;
  }

  after(id: number, limit: number): Array<Queued<T>> {
    return this.selectAfter.all(id, limit).map((r) => ({ id: r.id, body: JSON.parse(r.body) as T }));
  }

  remove(from: number, to: number): number {
    return this.deleteRange.run(from, to).changes;
  }

  count(): number {
    return this.countStmt.get()!.n;
  }
}
