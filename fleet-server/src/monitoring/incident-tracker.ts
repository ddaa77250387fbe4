/**
 * @module monitoring/incident-tracker
 * Groups alerts into incidents: the alerts of one (rule, model, version) firing on any number of
 * devices or groups make ONE incident listing them (fifty drifting devices page once, not fifty
 * times). It opens with the first firing alert and lists members as they fire. When every member
 * has resolved it stays open for a quiet period of data time (default 5 minutes), so a rule
 * hovering at its threshold on a few devices does not open and close incidents on every flap; a
 * member firing again within it simply continues the incident.
 */
import { randomBytes } from 'node:crypto';
import type { AlertRecord, IncidentRecord, MonitoringRepository } from '../store/fleet-store.js';
import type { MonitoringEvents } from './monitoring-events.js';

export const DEFAULT_INCIDENT_QUIET_MS = 5 * 60_000;

/** Ids sort by creation (wall clock), so "newest first" is "id descending" and pages cut on ids. */
export function sortableId(prefix: string): string {
  return `${prefix}-${Date.now().toString().padStart(14, '0')}-${randomBytes(4).toString('hex')}`;
}

export class IncidentTracker {
  // Alerts arrive from the engine and from devices at once: one change at a time, or two
  // members firing together would each open an incident.
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly repo: MonitoringRepository,
    private readonly events: MonitoringEvents,
    private readonly quietMs = DEFAULT_INCIDENT_QUIET_MS,
  ) {}

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Adds a firing alert to its incident (opening one if none is open); returns the incident's id. */
  fired(alert: AlertRecord, now: number): Promise<string> {
    return this.serial(() => this.addFiring(alert, now));
  }

  /** Marks a member resolved; when none fires any more the quiet period starts. */
  resolved(alert: AlertRecord, now: number): Promise<void> {
    return this.serial(() => this.markResolved(alert, now));
  }

  /** Resolves the open incidents whose quiet period is over. */
  sweep(now: number): Promise<void> {
    return this.serial(() => this.resolveQuiet(now));
  }

  private async addFiring(alert: AlertRecord, now: number): Promise<string> {
    const key = { rule: alert.rule, model: alert.model, version: alert.version };
    const open = await this.repo.openIncident(key);
    const member = {
      scope: alert.scope,
      deviceId: alert.deviceId,
      alertId: alert.id,
      since: alert.firedAt ?? now,
      state: alert.state,
    };
    if (!open) {
      const incident: IncidentRecord = {
        id: sortableId('in'),
        ...key,
        metric: alert.metric,
        severity: alert.severity,
        state: 'open',
        openedAt: now,
        updatedAt: now,
        quietSince: null,
        resolvedAt: null,
        members: [member],
        devices: [...alert.devices],
        resolvedBy: null,
      };
      await this.repo.putIncident(incident);
      this.events.publish('monitoring.incident', { incident, change: 'opened' });
      return incident.id;
    }
    const others = open.members.filter((m) => m.scope !== alert.scope);
    const known = open.members.find((m) => m.scope === alert.scope);
    const incident: IncidentRecord = {
      ...open,
      // A scope firing again keeps its first since-when: the incident says how long it has been affected.
      members: [...others, { ...member, since: known?.since ?? member.since }],
      devices: [...new Set([...open.devices, ...alert.devices])],
      severity: alert.severity === 'critical' ? 'critical' : open.severity,
      updatedAt: now,
      quietSince: null,
    };
    await this.repo.putIncident(incident);
    this.events.publish('monitoring.incident', { incident, change: 'member-fired' });
    return incident.id;
  }

  private async markResolved(alert: AlertRecord, now: number): Promise<void> {
    if (!alert.incidentId) return;
    const open = await this.repo.getIncident(alert.incidentId);
    if (!open || open.state !== 'open') return;
    const members = open.members.map((m) =>
      m.scope === alert.scope ? { ...m, alertId: alert.id, state: alert.state } : m,
    );
    const anyFiring = members.some((m) => m.state === 'firing' || m.state === 'pending');
    await this.repo.putIncident({
      ...open,
      members,
      updatedAt: now,
      quietSince: anyFiring ? null : (open.quietSince ?? now),
    });
  }

  private async resolveQuiet(now: number): Promise<void> {
    for (const open of await this.repo.listIncidents({ state: 'open', limit: 1000 })) {
      if (open.quietSince === null || now - open.quietSince < this.quietMs) continue;
      const incident: IncidentRecord = { ...open, state: 'resolved', resolvedAt: now, updatedAt: now };
      await this.repo.putIncident(incident);
      this.events.publish('monitoring.incident', { incident, change: 'resolved' });
    }
  }

  /**
   * Resolves an open incident because something fixed it (the retraining loop's new version),
   * recording what did; false when it was not open. Its alerts keep their own states: they belong
   * to the version that drifted, which no longer serves.
   */
  resolveBy(id: string, resolvedBy: NonNullable<IncidentRecord['resolvedBy']>, now: number): Promise<boolean> {
    return this.serial(async () => {
      const open = await this.repo.getIncident(id);
      if (!open || open.state !== 'open') return false;
      const incident: IncidentRecord = { ...open, state: 'resolved', resolvedAt: now, updatedAt: now, resolvedBy };
      await this.repo.putIncident(incident);
      this.events.publish('monitoring.incident', { incident, change: 'resolved' });
      return true;
    });
  }
}
