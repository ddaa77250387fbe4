/**
 * @module monitoring/monitoring-service
 * Puts monitoring together: the events, the incident tracker, the alert book, the webhook sender,
 * the actions and the rule engine, with one start/stop for the server's leader duties. Rules are
 * read through here so the API, the CLI and the engine see the same set (stored plus defaults).
 */
import type { Logger } from 'pino';
import { ruleSchema, type LocalAlert } from '@edgeloop/protocol';
import type { AlertAction, RuleDefinition } from '@edgeloop/protocol/rest';
import type { MonitoringRepository, RuleRecord } from '../store/fleet-store.js';
import { AlertBook } from './alert-book.js';
import { wireAlertActions } from './alert-actions.js';
import { defaultRules } from './default-rules.js';
import { DEFAULT_INCIDENT_QUIET_MS, IncidentTracker } from './incident-tracker.js';
import { MonitoringEvents } from './monitoring-events.js';
import type { MetricPort, RolloutArmSource, RollupReader, VersionSource } from './ports.js';
import { RuleEngine } from './rule-engine.js';
import { WebhookSender, type WebhookRetryPolicy } from './webhook-sender.js';

export interface MonitoringOptions {
  repo: MonitoringRepository;
  log: Logger;
  /** The engine's inputs; without them alerts come from devices only. */
  engine?: {
    rollups: RollupReader;
    metrics: MetricPort;
    versions: VersionSource;
    arms?: RolloutArmSource;
    evaluateEveryMs?: number;
  };
  /** Data time (default Date.now). */
  now?: () => number;
  incidentQuietMs?: number;
  /** Evaluate the shipped default rules (default true). */
  defaultRules?: boolean;
  /** Rules from the server's config file (stored with source "config" at start). */
  configRules?: readonly RuleDefinition[];
  globalActions?: readonly AlertAction[];
  webhookSecret?: string;
  webhookRetry?: Partial<WebhookRetryPolicy>;
  webhookPollMs?: number;
}

export class Monitoring {
  readonly events: MonitoringEvents;
  readonly incidents: IncidentTracker;
  readonly book: AlertBook;
  readonly webhooks: WebhookSender;
  readonly engine: RuleEngine | undefined;
  readonly now: () => number;
  private readonly defaults: RuleRecord[];
  private unwire: (() => void) | undefined;

  constructor(private readonly o: MonitoringOptions) {
    this.now = o.now ?? Date.now;
    this.events = new MonitoringEvents(o.log);
    this.incidents = new IncidentTracker(o.repo, this.events, o.incidentQuietMs ?? DEFAULT_INCIDENT_QUIET_MS);
    this.book = new AlertBook(o.repo, this.incidents, this.events);
    this.webhooks = new WebhookSender({
      repo: o.repo,
      log: o.log,
      ...(o.webhookSecret !== undefined ? { secret: o.webhookSecret } : {}),
      ...(o.webhookRetry ? { retry: o.webhookRetry } : {}),
      ...(o.webhookPollMs !== undefined ? { pollMs: o.webhookPollMs } : {}),
    });
    this.defaults = o.defaultRules === false ? [] : defaultRules();
    this.engine = o.engine
      ? new RuleEngine({
          ...o.engine,
          repo: o.repo,
          book: this.book,
          incidents: this.incidents,
          log: o.log,
          now: this.now,
          implicitRules: () => this.defaults,
        })
      : undefined;
    this.unwire = wireAlertActions({
      events: this.events,
      webhooks: this.webhooks,
      log: o.log,
      ruleOf: (name) => this.rule(name),
      ...(o.globalActions ? { globalActions: o.globalActions } : {}),
    });
  }

  /** Stores the config file's rules (replacing earlier config copies of the same name). */
  async loadConfigRules(): Promise<void> {
    for (const def of this.o.configRules ?? []) {
      const at = Date.now();
      const prior = await this.o.repo.getRule(def.rule.name);
      await this.o.repo.putRule({ ...def, source: 'config', createdAt: prior?.createdAt ?? at, updatedAt: at });
    }
  }

  /** The rule of that name as evaluated: stored, else a default. */
  async rule(name: string): Promise<RuleRecord | undefined> {
    return (await this.o.repo.getRule(name)) ?? this.defaults.find((r) => r.rule.name === name);
  }

  /** Stored rules and the defaults no stored rule overrides, by name; `after` pages forwards. */
  async rules(q: { after?: string; limit?: number } = {}): Promise<RuleRecord[]> {
    const limit = q.limit ?? 100;
    const stored = await this.o.repo.listRules({ ...q, limit });
    const names = new Set(stored.map((r) => r.rule.name));
    const last = stored.length === limit ? stored[stored.length - 1]!.rule.name : undefined;
    const defaults = this.defaults.filter(
      (d) =>
        !names.has(d.rule.name) &&
        (q.after === undefined || d.rule.name > q.after) &&
        (last === undefined || d.rule.name < last),
    );
    const merged = [...stored, ...(await this.unshadowed(defaults))].sort((a, b) =>
      a.rule.name < b.rule.name ? -1 : 1,
    );
    return merged.slice(0, limit);
  }

  private async unshadowed(defaults: RuleRecord[]): Promise<RuleRecord[]> {
    const out: RuleRecord[] = [];
    for (const d of defaults) if (!(await this.o.repo.getRule(d.rule.name))) out.push(d);
    return out;
  }

  async putRule(def: RuleDefinition): Promise<RuleRecord> {
    const at = Date.now();
    const prior = await this.o.repo.getRule(def.rule.name);
    const record: RuleRecord = { ...def, source: 'api', createdAt: prior?.createdAt ?? at, updatedAt: at };
    await this.o.repo.putRule(record);
    return record;
  }

  /** Enables or disables a rule; a default is overridden by a stored copy. */
  async setEnabled(name: string, enabled: boolean): Promise<RuleRecord | undefined> {
    const current = await this.rule(name);
    if (!current) return undefined;
    const rule = ruleSchema.parse({ ...current.rule, enabled });
    const record: RuleRecord = {
      ...current,
      rule,
      source: current.source === 'default' ? 'api' : current.source,
      updatedAt: Date.now(),
    };
    await this.o.repo.putRule(record);
    return record;
  }

  deviceAlert(deviceId: string, alert: LocalAlert) {
    return this.book.deviceAlert(deviceId, alert);
  }

  start(): void {
    this.engine?.start();
    this.webhooks.start();
  }

  async stop(): Promise<void> {
    await this.engine?.stop();
    await this.webhooks.stop();
  }

  /** Stops and unsubscribes the actions (server shutdown). */
  async close(): Promise<void> {
    await this.stop();
    this.unwire?.();
    this.unwire = undefined;
  }
}
