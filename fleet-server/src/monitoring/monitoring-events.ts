/**
 * @module monitoring/monitoring-events
 * The server's typed monitoring events: every alert change (`monitoring.alert`) and every
 * incident change (`monitoring.incident`), emitted in-process whatever a rule's actions say. The
 * retraining loop and rollouts subscribe here rather than polling the store.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { AlertRecord, IncidentRecord } from '../store/fleet-store.js';

export type AlertTransition = 'pending' | 'firing' | 'resolved' | 'cancelled';
export type IncidentChange = 'opened' | 'member-fired' | 'resolved';

export interface AlertEvent {
  alert: AlertRecord;
  transition: AlertTransition;
}

export interface IncidentEvent {
  incident: IncidentRecord;
  change: IncidentChange;
}

export interface MonitoringEventMap {
  'monitoring.alert': [AlertEvent];
  'monitoring.incident': [IncidentEvent];
}

export class MonitoringEvents extends EventEmitter<MonitoringEventMap> {
  constructor(private readonly log?: Logger) {
    super();
  }

  /** Emits; a subscriber that throws is logged, and neither stops the engine nor the other subscribers' next events. */
  publish<K extends keyof MonitoringEventMap>(name: K, ...args: MonitoringEventMap[K]): void {
    try {
      (this.emit as (n: K, ...a: MonitoringEventMap[K]) => boolean)(name, ...args);
    } catch (err) {
      this.log?.error({ err: (err as Error).message, event: name }, 'monitoring event subscriber failed');
    }
  }
}
