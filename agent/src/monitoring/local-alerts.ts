/**
 * @module monitoring/local-alerts
 * What the agent does when a device rule or the label-free detector changes state: a log line,
 * the edgeloop_local_alerts_* metrics, the list in /v1/health, and a durable `alert` message for
 * the fleet (queued in SQLite, sent and acked whenever the link is up; `offlineSince` set when it
 * happened without a connection). Listeners (input sampling, fallback) hear about every change.
 *
 * Which alerts fire is kept in the agent database too: after a restart the rules and the
 * detector judge afresh, so what fired before is resolved first (reason says why) and fires again
 * if the data still breaches; the fleet never sees an alert stuck firing.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { isValidId } from '@edgeloop/protocol';
import type { KeyValue } from '../store/agent-db.js';
import type { MonitoringQueue } from './monitoring-queue.js';
import type { QueuedAlert } from './monitoring-streams.js';

const FIRING_KEY = 'monitoring.alerts.firing';

export interface AlertChange {
  model: string;
  version: number;
  rule: string;
  metric: string;
  state: 'firing' | 'resolved';
  value: number | null;
  threshold: number | null;
  samples: number;
  /** Device time of the change. */
  ts: number;
  reason: string;
}

export interface FiringAlert extends Omit<AlertChange, 'state'> {
  alertId: string;
  /** Whether the device had no fleet connection when it fired. */
  offline: boolean;
}

export type AlertListener = (change: AlertChange, firing: readonly FiringAlert[]) => void;

/** Stable per rule × model version on this device; a valid id (≤ 64 of A-Z a-z 0-9 _ . -). */
export function alertIdOf(rule: string, model: string, version: number): string {
  const readable = `${rule}.${model}.v${version}`.replace(/[^A-Za-z0-9_.-]/g, '_');
  if (isValidId(readable)) return readable;
  return `a-${createHash('sha256').update(readable).digest('hex').slice(0, 32)}`;
}

export class LocalAlerts {
  private readonly active = new Map<string, FiringAlert>();
  private readonly listeners = new Set<AlertListener>();
  private readonly firingGauge;
  private readonly raised;

  constructor(
    private readonly queue: MonitoringQueue<QueuedAlert>,
    private readonly offlineSince: () => number | undefined,
    private readonly log: Logger,
    registry: Registry,
    private readonly kv?: KeyValue,
  ) {
    const registers = [registry];
    this.firingGauge = new Gauge({
      name: 'edgeloop_local_alerts_firing',
      help: 'Alerts this device raised itself (device rules, drift detector) that are firing now: 1, else 0',
      labelNames: ['rule', 'model', 'version'] as const,
      registers,
    });
    this.raised = new Counter({
      name: 'edgeloop_local_alerts_total',
      help: 'Times a device rule or the drift detector fired on this device',
      labelNames: ['rule', 'model', 'version'] as const,
      registers,
    });
  }

  /** Resolves what was firing when the agent last stopped (call once listeners are attached). */
  resolveLeftovers(ts = Date.now()): void {
    let left: FiringAlert[];
    try {
      left = JSON.parse(this.kv?.get(FIRING_KEY) || '[]') as FiringAlert[];
    } catch {
      left = [];
    }
    for (const a of left) {
      this.active.set(a.alertId, a);
      const { alertId: _id, offline: _offline, ...rest } = a;
      this.change({
        ...rest,
        state: 'resolved',
        ts,
        reason: 'the agent restarted: its rules and detector judge afresh',
      });
    }
  }

  onChange(listener: AlertListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  firing(): FiringAlert[] {
    return [...this.active.values()];
  }

  isFiring(model: string, version?: number): boolean {
    for (const a of this.active.values())
      if (a.model === model && (version === undefined || a.version === version)) return true;
    return false;
  }

  change(c: AlertChange): void {
    const alertId = alertIdOf(c.rule, c.model, c.version);
    const was = this.active.has(alertId);
    if ((c.state === 'firing') === was) return;
    const offline = this.offlineSince();
    const labels = { rule: c.rule, model: c.model, version: String(c.version) };
    if (c.state === 'firing') {
      this.active.set(alertId, { ...c, alertId, offline: offline !== undefined });
      this.firingGauge.set(labels, 1);
      this.raised.inc(labels);
      this.log.warn({ alertId, ...c, offline: offline !== undefined }, `local alert firing: ${c.reason}`);
    } else {
      this.active.delete(alertId);
      this.firingGauge.set(labels, 0);
      this.log.info({ alertId, ...c }, `local alert resolved: ${c.reason}`);
    }
    try {
      this.queue.add({
        alertId,
        model: c.model,
        version: c.version,
        rule: c.rule.slice(0, 128),
        metric: c.metric.slice(0, 128),
        state: c.state,
        value: c.value !== null && Number.isFinite(c.value) ? c.value : null,
        threshold: c.threshold,
        samples: Math.max(0, Math.floor(c.samples)),
        ts: Math.max(0, Math.floor(c.ts)),
        ...(offline !== undefined ? { offlineSince: offline } : {}),
        reason: c.reason.slice(0, 1024),
      });
    } catch (err) {
      // A full or broken disk: the log line and /metrics still tell.
      this.log.error({ err: (err as Error).message, alertId }, 'could not queue a local alert for the fleet');
    }
    const firing = this.firing();
    this.kv?.set(FIRING_KEY, JSON.stringify(firing));
    for (const l of this.listeners) l(c, firing);
  }
}
