/**
 * @module store/device-store
 * Devices, what they run, what they are assigned, and the history of their update reports;
 * the operator's group, tags and disabled flag, and selecting devices by them.
 */
import { MAX_REPORT_SEQ_STEP, fail, ok, type AssignmentStatus, type Birth, type DeviceSummary, type Result, type RunningModel, type UpdateReport } from '@edgeloop/protocol';
import type { FleetDb } from './fleet-db.js';
import { ShadowAssignments } from '../deploy/shadow-assignments.js';

export type AssignmentView = AssignmentStatus;
export type DeviceView = DeviceSummary;

interface DeviceRow {
  id: string; first_seen: number; last_seen: number | null; online: number; session: number;
  info: string | null; running: string; backlog: number; dropped: number; records: number;
  device_group: string | null; tags: string; disabled: number; bytes_sent: number;
}

/** Which devices a deployment or rollout targets. Criteria combine with AND; nothing given selects nothing. */
export interface DeviceSelector {
  /** Every device (narrowed by the other criteria when given). */
  all?: boolean;
  group?: string;
  /** Every listed tag must match exactly. */
  tags?: Record<string, string>;
  /** Explicit device ids. */
  devices?: readonly string[];
  /** Disabled devices are left out unless this is set: they cannot connect, so they would stall a wave. */
  includeDisabled?: boolean;
}

export interface DeviceListFilter {
  group?: string;
  tags?: Record<string, string>;
  disabled?: boolean;
}

/** SQL conditions for group/tag/disabled filters (tags are a JSON object column). */
function filterSql(f: { group?: string | undefined; tags?: Record<string, string> | undefined; disabled?: boolean | undefined }): { where: string[]; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  if (f.group !== undefined) {
    where.push('device_group = ?');
    args.push(f.group);
  }
  for (const [k, v] of Object.entries(f.tags ?? {})) {
    // Key and value both bound: no JSON path is built from input.
    where.push('EXISTS (SELECT 1 FROM json_each(devices.tags) WHERE json_each.key = ? AND json_each.value = ?)');
    args.push(k, v);
  }
  if (f.disabled !== undefined) {
    where.push('disabled = ?');
    args.push(f.disabled ? 1 : 0);
  }
  return { where, args };
}

/**
 * Device ids matching the selector, sorted by id (rollout waves are cut from this order).
 * `{ all: true }` is every enabled device; `{ group: 'site-a', tags: { hw: 'pi4' } }` those in the
 * group with that tag; `devices` restricts to the listed ids (unknown ids are left out).
 */
export function selectDevices(db: FleetDb, sel: DeviceSelector): string[] {
  if (!sel.all && sel.group === undefined && sel.tags === undefined && sel.devices === undefined) return [];
  const { where, args } = filterSql({ group: sel.group, tags: sel.tags, disabled: sel.includeDisabled ? undefined : false });
  const ids = (db.prepare(`SELECT id FROM devices ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id`).all(...args) as Array<{ id: string }>).map((r) => r.id);
  if (sel.devices === undefined) return ids;
  const wanted = new Set(sel.devices);
  return ids.filter((id) => wanted.has(id));
}

export class DeviceStore {
  /** Candidate versions devices run in shadow beside the serving one (deploy/shadow-assignments.ts). */
  readonly shadows: ShadowAssignments;

  constructor(private readonly db: FleetDb) {
    this.shadows = new ShadowAssignments(db);
  }

  /** Birth: the device is online with this connection's session number and runs exactly what it says it runs. */
  recordBirth(birth: Birth, now = Date.now()): void {
    const info = JSON.stringify({
      agentVersion: birth.agentVersion, arch: birth.arch, platform: birth.platform, hardware: birth.hardware ?? null,
      runtime: birth.runtime, cpus: birth.cpus, memTotalMb: birth.memTotalMb, stream: birth.stream,
    });
    this.db
      .prepare(
        `INSERT INTO devices (id, first_seen, last_seen, online, session, info, running, backlog, dropped) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET last_seen = excluded.last_seen, online = 1, session = excluded.session,
           info = excluded.info, running = excluded.running, backlog = excluded.backlog, dropped = max(dropped, excluded.dropped)`,
      )
      .run(birth.deviceId, now, now, birth.session, info, JSON.stringify(birth.models), birth.backlog, birth.dropped ?? 0);
  }

  /** A death only counts for the session it belongs to: a late will must not mark a reconnected device offline. */
  recordDeath(deviceId: string, session: number): boolean {
    return this.db.prepare('UPDATE devices SET online = 0 WHERE id = ? AND session <= ?').run(deviceId, session).changes > 0;
  }

  touch(deviceId: string, backlog: number | undefined, addedRecords: number, dropped?: number, now = Date.now()): void {
    this.db
      .prepare('UPDATE devices SET last_seen = ?, backlog = coalesce(?, backlog), records = records + ?, dropped = max(dropped, coalesce(?, 0)) WHERE id = ?')
      .run(now, backlog ?? null, addedRecords, dropped ?? null, deviceId);
  }

  /** Telemetry may arrive before a birth (e.g. a retained birth was cleared); keep the records' device known. */
  ensure(deviceId: string, now = Date.now()): void {
    this.db.prepare('INSERT OR IGNORE INTO devices (id, first_seen, last_seen) VALUES (?, ?, ?)').run(deviceId, now, now);
  }

  exists(deviceId: string): boolean {
    return this.db.prepare('SELECT 1 FROM devices WHERE id = ?').get(deviceId) !== undefined;
  }

  assign(deviceId: string, model: string, version: number, now = Date.now()): void {
    this.db
      .prepare(
        `INSERT INTO assignments (device_id, model, version, state, code, reason, updated_at) VALUES (?, ?, ?, 'assigned', NULL, NULL, ?)
         ON CONFLICT(device_id, model) DO UPDATE SET version = excluded.version, state = 'assigned', code = NULL, reason = NULL,
           updated_at = excluded.updated_at`,
      )
      .run(deviceId, model, version, now);
  }

  assignments(deviceId: string): AssignmentView[] {
    return (this.db.prepare('SELECT * FROM assignments WHERE device_id = ? ORDER BY model').all(deviceId) as Array<{
      model: string; version: number; state: string; code: string | null; reason: string | null; updated_at: number;
    }>).map((a) => ({ model: a.model, version: a.version, state: a.state, code: a.code, reason: a.reason, updatedAt: a.updated_at }));
  }

  /**
   * Stores a report if the device could have sent it: on its current session (the last birth),
   * with a reportSeq above the last one taken in that session and at most MAX_REPORT_SEQ_STEP
   * beyond it. Agents restart reportSeq at 1 per session, so a forged number can spoil at most
   * the rest of the connection it came on. Reports of the assigned version move the assignment.
   */
  recordUpdateReport(deviceId: string, report: UpdateReport, now = Date.now()): Result<true, 'wrong-session' | 'replay' | 'seq-jump'> {
    return this.db.transaction((): Result<true, 'wrong-session' | 'replay' | 'seq-jump'> => {
      const device = this.db.prepare('SELECT session, report_session, report_seq FROM devices WHERE id = ?').get(deviceId) as
        | { session: number; report_session: number | null; report_seq: number } | undefined;
      const current = device?.session ?? 0;
      // Birth and reports travel on one connection with QoS 1, so the birth is always seen first.
      if (report.session !== current) return fail('wrong-session', `report is for session ${report.session}, the device's current session is ${current}`);
      const last = device?.report_session === current ? device.report_seq : 0;
      if (report.reportSeq <= last) return fail('replay', `reportSeq ${report.reportSeq} is not above ${last}, the last one taken in session ${current}`);
      if (report.reportSeq > last + MAX_REPORT_SEQ_STEP) {
        return fail('seq-jump', `reportSeq ${report.reportSeq} is more than ${MAX_REPORT_SEQ_STEP} beyond ${last}, the last one taken in session ${current}`);
      }
      this.db.prepare('UPDATE devices SET report_session = ?, report_seq = ? WHERE id = ?').run(current, report.reportSeq, deviceId);
      this.db
        .prepare(
          `INSERT INTO update_events (device_id, model, version, state, code, reason, session, report_seq, ts, received_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(deviceId, report.model, report.version, report.state, report.code ?? null, report.reason ?? null, report.session, report.reportSeq, report.ts, now);
      // A report about the shadow slot moves the shadow assignment; the serving one is untouched.
      this.db
        .prepare(`UPDATE ${report.role === 'shadow' ? 'shadow_assignments' : 'assignments'} SET state = ?, code = ?, reason = ?, updated_at = ? WHERE device_id = ? AND model = ? AND version = ?`)
        .run(report.state, report.code ?? null, report.reason ?? null, now, deviceId, report.model, report.version);
      if (report.state === 'active' && report.role !== 'shadow') this.setRunning(deviceId, report);
      return ok(true);
    })();
  }

  /**
   * The next desired-state counter of a device: above every counter issued before, and never
   * below the clock (ms). The clock part keeps the counter growing where the stored one cannot:
   * after the database was restored from a backup, or with several servers on one database.
   */
  nextDesiredCounter(deviceId: string, now = Date.now()): number {
    const row = this.db.prepare('UPDATE devices SET desired_counter = max(desired_counter + 1, ?) WHERE id = ? RETURNING desired_counter').get(now, deviceId) as
      | { desired_counter: number } | undefined;
    if (!row) throw new Error(`cannot issue a desired state for unknown device ${deviceId}`);
    return row.desired_counter;
  }

  /** Runs `fn` in one transaction (nested calls join it): several writes, one commit. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** The counter of the desired state issued last (0: none yet). */
  desiredCounter(deviceId: string): number {
    return (this.db.prepare('SELECT desired_counter FROM devices WHERE id = ?').get(deviceId) as { desired_counter: number } | undefined)?.desired_counter ?? 0;
  }

  private setRunning(deviceId: string, report: UpdateReport): void {
    const row = this.db.prepare('SELECT running FROM devices WHERE id = ?').get(deviceId) as { running: string } | undefined;
    if (!row) return;
    const sha = (this.db.prepare('SELECT sha256 FROM model_versions WHERE name = ? AND version = ?').get(report.model, report.version) as
      | { sha256: string } | undefined)?.sha256 ?? '';
    const running = (JSON.parse(row.running) as RunningModel[]).filter((m) => m.name !== report.model);
    running.push({ name: report.model, version: report.version, sha256: sha });
    this.db.prepare('UPDATE devices SET running = ? WHERE id = ?').run(JSON.stringify(running), deviceId);
  }

  events(deviceId: string, limit = 50): Array<Record<string, unknown>> {
    return this.db
      .prepare('SELECT model, version, state, code, reason, session, report_seq AS reportSeq, ts, received_at AS receivedAt FROM update_events WHERE device_id = ? ORDER BY id DESC LIMIT ?')
      .all(deviceId, limit) as Array<Record<string, unknown>>;
  }

  list(filter: DeviceListFilter = {}): DeviceView[] {
    const { where, args } = filterSql(filter);
    const sql = `SELECT * FROM devices ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id`;
    return (this.db.prepare(sql).all(...args) as DeviceRow[]).map((r) => this.toView(r));
  }

  /** Device ids matching the selector, sorted (waves are cut from this order). */
  selectDevices(sel: DeviceSelector): string[] {
    return selectDevices(this.db, sel);
  }

  /** Sets group and/or tags (tags replace the whole set); false if the device is unknown. */
  setLabels(deviceId: string, labels: { group?: string | null; tags?: Record<string, string> }): boolean {
    const sets: string[] = [];
    const args: unknown[] = [];
    if (labels.group !== undefined) {
      sets.push('device_group = ?');
      args.push(labels.group);
    }
    if (labels.tags !== undefined) {
      sets.push('tags = ?');
      args.push(JSON.stringify(labels.tags));
    }
    if (!sets.length) return this.exists(deviceId);
    return this.db.prepare(`UPDATE devices SET ${sets.join(', ')} WHERE id = ?`).run(...args, deviceId).changes > 0;
  }

  setDisabled(deviceId: string, disabled: boolean): boolean {
    return this.db.prepare('UPDATE devices SET disabled = ? WHERE id = ?').run(disabled ? 1 : 0, deviceId).changes > 0;
  }

  isDisabled(deviceId: string): boolean {
    return (this.db.prepare('SELECT disabled FROM devices WHERE id = ?').get(deviceId) as { disabled: number } | undefined)?.disabled === 1;
  }

  /**
   * Enrollment: the device becomes known (not yet seen online) with the token's group and tags.
   * An existing device keeps its group unless the token sets one; the token's tags are merged in.
   */
  registerEnrolled(deviceId: string, labels: { group: string | null; tags: Record<string, string> }, info: { arch?: string | undefined; hardware?: string | undefined } = {}, now = Date.now()): void {
    this.db
      .prepare(
        `INSERT INTO devices (id, first_seen, last_seen, device_group, tags, info) VALUES (?, ?, NULL, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET device_group = coalesce(excluded.device_group, device_group),
           tags = json_patch(tags, excluded.tags)`,
      )
      .run(deviceId, now, labels.group, JSON.stringify(labels.tags), info.arch || info.hardware ? JSON.stringify({ arch: info.arch ?? null, hardware: info.hardware ?? null }) : null);
  }

  get(deviceId: string): DeviceView | undefined {
    const row = this.db.prepare('SELECT * FROM devices WHERE id = ?').get(deviceId) as DeviceRow | undefined;
    return row ? this.toView(row) : undefined;
  }

  private toView(r: DeviceRow): DeviceView {
    const info = r.info ? (JSON.parse(r.info) as Record<string, unknown>) : {};
    return {
      id: r.id,
      online: r.online === 1,
      lastSeen: r.last_seen,
      firstSeen: r.first_seen,
      session: r.session,
      agentVersion: (info.agentVersion as string | undefined) ?? null,
      arch: (info.arch as string | undefined) ?? null,
      platform: (info.platform as string | undefined) ?? null,
      hardware: (info.hardware as string | null | undefined) ?? null,
      runtime: (info.runtime as { name: string; version: string } | undefined) ?? null,
      stream: (info.stream as string | undefined) ?? null,
      models: JSON.parse(r.running) as RunningModel[],
      assignments: this.assignments(r.id),
      backlog: r.backlog,
      dropped: r.dropped,
      records: r.records,
      bytesSent: r.bytes_sent,
      shadows: this.shadows.list(r.id),
      group: r.device_group,
      tags: JSON.parse(r.tags) as Record<string, string>,
      disabled: r.disabled === 1,
    };
  }
}
