/**
 * @module api/metrics-routes
 * GET /metrics: counters in the Prometheus text format (version 0.0.4). It needs an admin token
 * like /api/v1, because refusal counts tell an attacker what is noticed; Prometheus sends one
 * with `authorization: { type: Bearer, credentials_file: … }` in its scrape config.
 *
 * With the embedded broker: `edgeloop_broker_refused_total{reason}` (every connection, packet
 * and message it refused, reasons in broker/refusal-log.ts), `edgeloop_broker_connections`
 * (authenticated clients) and `edgeloop_broker_pending_connections` (accepted, not yet
 * authenticated). An external broker reports its own (Mosquitto: `$SYS/broker/#`).
 */
import { Hono } from 'hono';
import type { BrokerMetrics } from '../broker/embedded-broker.js';
import type { ApiEnv } from './api-env.js';
import { apiAuth, type AuthDeps } from './auth.js';

export interface MetricsDeps extends AuthDeps {
  /** Absent when the fleet uses an external broker. */
  brokerMetrics?: () => BrokerMetrics;
}

export function metricsRoutes(deps: MetricsDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.use('/metrics', apiAuth(deps));
  app.get('/metrics', (c) =>
    c.body(renderMetrics(deps), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }),
  );
  return app;
}

export function renderMetrics(deps: Pick<MetricsDeps, 'brokerMetrics'>): string {
  const lines: string[] = [];
  const broker = deps.brokerMetrics?.();
  if (broker) {
    lines.push(
      '# HELP edgeloop_broker_refused_total Connections, packets and messages the embedded MQTT broker refused, by reason.',
      '# TYPE edgeloop_broker_refused_total counter',
      ...Object.entries(broker.refused).map(([reason, n]) => `edgeloop_broker_refused_total{reason="${reason}"} ${n}`),
      '# HELP edgeloop_broker_connections Authenticated MQTT clients connected now.',
      '# TYPE edgeloop_broker_connections gauge',
      `edgeloop_broker_connections ${broker.connections}`,
      '# HELP edgeloop_broker_pending_connections MQTT connections accepted and not yet authenticated.',
      '# TYPE edgeloop_broker_pending_connections gauge',
      `edgeloop_broker_pending_connections ${broker.pending}`,
    );
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}
