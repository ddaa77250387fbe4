/**
 * @module monitoring/alert-book
 * Writes alerts: the rule engine's transitions (server alerts) and agents' local alerts (device
 * alerts) become the same alert records with their history, join incidents the same way, and are
 * announced as `monitoring.alert` events. One place decides what an alert looks like.
 */
import { thresholdOf, type LocalAlert, type Rule, type RuleTransition } from '@edgeloop/protocol';
import type { AlertRecord, MonitoringRepository } from '../store/fleet-store.js';
import { sortableId, type IncidentTracker } from './incident-tracker.js';
import type { MonitoringEvents } from './monitoring-events.js';

export interface ServerTransition {
  rule: Rule;
  model: string;
  version: number;
  scope: string;
  deviceId: string | null;
  transition: RuleTransition;
  value: number | null;
  samples: number;
  /** Data time of the reading. */
  ts: number;
  /** When the breach began. */
  since: number;
  /** The alert the breach opened before this transition, if any. */
  alertId: string | null;
  /** Why, when not the reading itself. */
  reason?: string;
  /** Devices the breach is seen on (a version-, fleet- or arm-wide rule firing). */
  devices?: readonly string[];
}

export class AlertBook {
  constructor(
    private readonly repo: MonitoringRepository,
    private readonly incidents: IncidentTracker,
    private readonly events: MonitoringEvents,
  ) {}

  /** Records a rule engine transition; returns the alert (its id is kept with the rule state while open). */
  async serverTransition(t: ServerTransition): Promise<AlertRecord> {
    const prior = t.alertId ? await this.repo.getAlert(t.alertId) : undefined;
    const state = t.transition;
    const alert: AlertRecord = prior ?? {
      id: sortableId('al'),
      rule: t.rule.name,
      metric: t.rule.metric,
      severity: t.rule.severity,
      source: 'server',
      model: t.model,
      version: t.version,
      scope: t.scope,
      deviceId: t.deviceId,
      devices: t.deviceId ? [t.deviceId] : [],
      state,
      since: t.since,
      firedAt: null,
      resolvedAt: null,
      updatedAt: t.ts,
      value: t.value,
      threshold: null,
      samples: t.samples,
      incidentId: null,
      reason: null,
      history: [],
    };
    const named = t.devices && t.devices.length > 0 ? { ...alert, devices: [...t.devices] } : alert;
    return this.apply(named, {
      state,
      ts: t.ts,
      value: t.value,
      samples: t.samples,
      threshold: thresholdOf(t.rule.condition, t.value),
      reason:
        t.reason ??
        `${t.rule.metric} = ${t.value === null ? 'no value' : t.value.toPrecision(4)} on ${t.samples} samples`,
    });
  }

  /** Records a device's local alert (already validated and deduplicated). */
  async deviceAlert(deviceId: string, a: LocalAlert): Promise<AlertRecord> {
    const scope = `device:${deviceId}`;
    const open = await this.repo.openAlert({ rule: a.rule, model: a.model, version: a.version, scope });
    // A resolution without a firing we know of (it predates this server's store) is still kept
    // in the history, outside any incident.
    const alert: AlertRecord = open ?? {
      id: sortableId('al'),
      rule: a.rule,
      metric: a.metric,
      severity: 'warning',
      source: 'device',
      model: a.model,
      version: a.version,
      scope,
      deviceId,
      devices: [deviceId],
      state: a.state,
      since: a.ts,
      firedAt: null,
      resolvedAt: null,
      updatedAt: a.ts,
      value: a.value,
      threshold: a.threshold,
      samples: a.samples,
      incidentId: null,
      reason: null,
      history: [],
    };
    const offline =
      a.offlineSince === undefined
        ? ''
        : ` (raised offline, disconnected since ${new Date(a.offlineSince).toISOString()})`;
    return this.apply(alert, {
      state: a.state,
      ts: a.ts,
      value: a.value,
      samples: a.samples,
      threshold: a.threshold,
      reason: `${a.reason}${offline}`,
    });
  }

  private async apply(
    before: AlertRecord,
    c: {
      state: AlertRecord['state'];
      ts: number;
      value: number | null;
      samples: number;
      threshold: number | null;
      reason: string;
    },
  ): Promise<AlertRecord> {
    let alert: AlertRecord = {
      ...before,
      state: c.state,
      updatedAt: c.ts,
      value: c.value,
      samples: c.samples,
      threshold: c.threshold,
      reason: c.reason,
      firedAt: c.state === 'firing' ? c.ts : before.firedAt,
      resolvedAt: c.state === 'resolved' ? c.ts : before.resolvedAt,
      history: [...before.history, { state: c.state, ts: c.ts, value: c.value }],
    };
    if (c.state === 'firing') alert = { ...alert, incidentId: await this.incidents.fired(alert, c.ts) };
    await this.repo.putAlert(alert);
    if (c.state === 'resolved') await this.incidents.resolved(alert, c.ts);
    this.events.publish('monitoring.alert', { alert, transition: c.state });
    return alert;
  }
}
