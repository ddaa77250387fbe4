/**
 * @module monitoring/alert-actions
 * What happens on alert and incident changes besides the internal events: `log` writes a line per
 * alert change; `webhook` posts per incident change (opened, a member fired, resolved), not per
 * alert, so fifty drifting devices make one page and a handful of updates, never fifty pages.
 * Actions come from the rule and from the server's global list (config `monitoring.actions`).
 */
import type { Logger } from 'pino';
import type { AlertAction } from '@edgeloop/protocol/rest';
import type { RuleRecord } from '../store/fleet-store.js';
import type { AlertEvent, IncidentEvent, MonitoringEvents } from './monitoring-events.js';
import type { WebhookSender } from './webhook-sender.js';

export interface AlertActionDeps {
  events: MonitoringEvents;
  webhooks: WebhookSender;
  log: Logger;
  /** The rule of that name as evaluated (stored or default), for its actions. */
  ruleOf: (name: string) => Promise<RuleRecord | undefined>;
  globalActions?: readonly AlertAction[];
}

/** Subscribes the actions to the events; returns the unsubscribe. */
export function wireAlertActions(d: AlertActionDeps): () => void {
  const actionsOf = async (rule: string): Promise<AlertAction[]> => [
    ...(d.globalActions ?? []),
    ...((await d.ruleOf(rule))?.actions ?? []),
  ];
  const run = (what: string, fn: () => Promise<void>) =>
    void fn().catch((err: Error) => d.log.error({ err: err.message, what }, 'alert action failed'));

  const onAlert = ({ alert, transition }: AlertEvent) =>
    run('alert', async () => {
      if (!(await actionsOf(alert.rule)).some((a) => a.type === 'log')) return;
      const line = {
        alert: alert.id,
        rule: alert.rule,
        model: alert.model,
        version: alert.version,
        scope: alert.scope,
        value: alert.value,
        threshold: alert.threshold,
        samples: alert.samples,
        incident: alert.incidentId,
      };
      if (transition === 'firing') d.log.warn(line, `alert firing: ${alert.reason ?? alert.metric}`);
      else d.log.info(line, `alert ${transition}`);
    });

  const onIncident = ({ incident, change }: IncidentEvent) =>
    run('incident', async () => {
      for (const a of await actionsOf(incident.rule))
        if (a.type === 'webhook') await d.webhooks.enqueue(a.url, `incident.${change}`, { incident });
    });

  d.events.on('monitoring.alert', onAlert);
  d.events.on('monitoring.incident', onIncident);
  return () => {
    d.events.off('monitoring.alert', onAlert);
    d.events.off('monitoring.incident', onIncident);
  };
}
