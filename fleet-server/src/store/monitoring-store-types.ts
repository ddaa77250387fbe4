/**
 * @module store/monitoring-store-types
 * The store's side of rules, alerts and incidents: the `monitoring` repository. Rules with their
 * actions, the rule engine's state per (rule, model, version, scope) so a restart neither
 * re-fires nor forgets a pending breach, alerts with their history, incidents that group them,
 * webhook deliveries (so a restart resumes their retries), chosen reference windows, and the
 * (device, stream, seq) of local alerts already taken (re-sent alerts are skipped).
 *
 * Records travel as JSON bodies beside the few columns lists filter on: the shapes belong to the
 * monitoring module and change with it, the columns are what queries need.
 */
import type { AlertView, IncidentView, RuleDefinition } from '@edgeloop/protocol/rest';
import type { RuleState, ScopeKey } from '@edgeloop/protocol';

export type AlertRecord = AlertView;
export type IncidentRecord = IncidentView;

export interface RuleRecord extends RuleDefinition {
  /** api: added through the API or CLI; config: from the server's config file; default: the shipped set. */
  source: 'api' | 'config' | 'default';
  createdAt: number;
  updatedAt: number;
}

/** The engine's state of one rule on one scope instance of one model version. */
export interface RuleStateRecord {
  rule: string;
  model: string;
  version: number;
  scope: string;
  state: RuleState;
  /** The alert the current breach opened (pending or firing), if any. */
  alertId: string | null;
}

export interface WebhookDelivery {
  id: string;
  url: string;
  /** The exact bytes signed and sent (JSON). */
  body: string;
  /** What it reports, e.g. `incident.opened`. */
  event: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  createdAt: number;
  deliveredAt: number | null;
}

/** A version's reference distribution taken from live data instead of its training baseline. */
export interface ReferenceWindowRecord {
  model: string;
  version: number;
  scope: ScopeKey;
  from: number;
  to: number;
  setAt: number;
  setBy: string;
}

export interface AlertQuery {
  state?: AlertRecord['state'];
  model?: string;
  device?: string;
  rule?: string;
  incidentId?: string;
  /** Page backwards: only ids smaller than this (ids sort by creation). */
  before?: string;
  limit?: number;
}

export interface IncidentQuery {
  state?: IncidentRecord['state'];
  model?: string;
  before?: string;
  limit?: number;
}

export interface MonitoringRepository {
  putRule(rule: RuleRecord): Promise<void>;
  getRule(name: string): Promise<RuleRecord | undefined>;
  /** By name; `after` pages forwards. */
  listRules(q?: { after?: string; limit?: number }): Promise<RuleRecord[]>;
  /** Also forgets the rule's states. False when there was no such rule. */
  deleteRule(name: string): Promise<boolean>;

  ruleStates(): Promise<RuleStateRecord[]>;
  putRuleState(s: RuleStateRecord): Promise<void>;

  putAlert(a: AlertRecord): Promise<void>;
  getAlert(id: string): Promise<AlertRecord | undefined>;
  /** Newest first. */
  listAlerts(q?: AlertQuery): Promise<AlertRecord[]>;
  /**
   * How many pending or firing alerts name each device (its local alerts, device-scope rules):
   * of the listed devices, or of every device; devices without any are absent.
   */
  openDeviceAlertCounts(deviceIds?: readonly string[]): Promise<Map<string, number>>;
  /** The pending or firing alert of a key, if one is open. */
  openAlert(key: { rule: string; model: string; version: number; scope: string }): Promise<AlertRecord | undefined>;

  putIncident(i: IncidentRecord): Promise<void>;
  getIncident(id: string): Promise<IncidentRecord | undefined>;
  /** Newest first. */
  listIncidents(q?: IncidentQuery): Promise<IncidentRecord[]>;
  openIncident(key: { rule: string; model: string; version: number }): Promise<IncidentRecord | undefined>;

  putDelivery(d: WebhookDelivery): Promise<void>;
  /** Pending deliveries due at `now`, oldest first. */
  dueDeliveries(now: number, limit?: number): Promise<WebhookDelivery[]>;
  getDelivery(id: string): Promise<WebhookDelivery | undefined>;

  setReferenceWindow(r: ReferenceWindowRecord): Promise<void>;
  getReferenceWindow(model: string, version: number): Promise<ReferenceWindowRecord | undefined>;

  /** Remembers a device's local alert message; false when it was taken before (a re-send). */
  markDeviceAlert(deviceId: string, stream: string, seq: number): Promise<boolean>;
  /** Undoes markDeviceAlert when the alert could not be recorded after all. */
  forgetDeviceAlert(deviceId: string, stream: string, seq: number): Promise<void>;
}
