/**
 * @module deploy/update-reports
 * Taking a device's update report (downloading → verified → active, or rejected/failed). A report
 * is taken only if the device could have sent it: on its current session (the last birth), with a
 * reportSeq above the last one taken in that session and at most MAX_REPORT_SEQ_STEP beyond it.
 * Agents restart reportSeq at 1 per session, so a forged number can spoil at most the rest of the
 * connection it came on. A taken report is appended to the history and moves the assignment of
 * exactly that version (the shadow one for role "shadow"); "active" on the serving slot also
 * updates what the device runs.
 *
 * Several servers may take reports of one device at once (shared subscriptions): each report is
 * judged with the device's row locked, so a report taken late by one server is judged against the
 * cursor another server's later report left, and never writes its older state over it.
 *
 * A report that names its outbox position (`stream`, `id`) is stored at most once per device:
 * after a reconnect the same report can arrive twice, once as MQTT's own redelivery under the old
 * session and once restamped by the outbox under the new one. The second is taken as a
 * `duplicate`: nothing changes, but the caller acks it so the device stops sending it.
 */
import { MAX_REPORT_SEQ_STEP, fail, ok, type Result, type UpdateReport } from '@edgeloop/protocol';
import type { FleetStore } from '../store/fleet-store.js';

export type ReportRefusal = 'wrong-session' | 'replay' | 'seq-jump';
/** stored: appended and applied; duplicate: its outbox position was already stored, nothing changed. */
export type ReportTaken = 'stored' | 'duplicate';

export function recordUpdateReport(
  store: FleetStore,
  deviceId: string,
  report: UpdateReport,
  now = Date.now(),
): Promise<Result<ReportTaken, ReportRefusal>> {
  return store.transaction(async (tx): Promise<Result<ReportTaken, ReportRefusal>> => {
    const outbox =
      report.stream !== undefined && report.id !== undefined ? { stream: report.stream, id: report.id } : undefined;
    // First, so reports of one device taken by different servers are judged one after the other:
    // judged side by side, "verified" could be written over the "active" that followed it.
    const cursor = await tx.devices.lockReportCursor(deviceId);
    // Before the session checks: a stored report is safe whatever session its copy claims.
    if (outbox && (await tx.updateEvents.hasOutboxReport(deviceId, outbox))) return ok('duplicate');
    const current = cursor?.session ?? 0;
    // Birth and reports travel on one connection with QoS 1, so the birth is always seen first.
    if (report.session !== current)
      return fail(
        'wrong-session',
        `report is for session ${report.session}, the device's current session is ${current}`,
      );
    const last = cursor?.reportSession === current ? cursor.reportSeq : 0;
    if (report.reportSeq <= last)
      return fail(
        'replay',
        `reportSeq ${report.reportSeq} is not above ${last}, the last one taken in session ${current}`,
      );
    if (report.reportSeq > last + MAX_REPORT_SEQ_STEP) {
      return fail(
        'seq-jump',
        `reportSeq ${report.reportSeq} is more than ${MAX_REPORT_SEQ_STEP} beyond ${last}, the last one taken in session ${current}`,
      );
    }
    const outcome = { state: report.state, code: report.code ?? null, reason: report.reason ?? null };
    const appended = await tx.updateEvents.append(
      deviceId,
      {
        model: report.model,
        version: report.version,
        ...outcome,
        session: report.session,
        reportSeq: report.reportSeq,
        ts: report.ts,
        receivedAt: now,
      },
      outbox,
    );
    // A copy taken by a concurrent transaction since the check above (PostgreSQL, several servers).
    if (!appended) return ok('duplicate');
    await tx.devices.setReportCursor(deviceId, current, report.reportSeq);
    // A report about the shadow slot moves the shadow assignment; the serving one is untouched.
    await (report.role === 'shadow' ? tx.shadows : tx.assignments).setReportedState(
      deviceId,
      report.model,
      report.version,
      outcome,
      now,
    );
    if (report.state === 'active' && report.role !== 'shadow') {
      const sha256 = (await tx.models.get(report.model, report.version))?.sha256 ?? '';
      await tx.devices.setRunningModel(deviceId, { name: report.model, version: report.version, sha256 });
    }
    return ok('stored');
  });
}
