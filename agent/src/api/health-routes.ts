/**
 * @module api/health-routes
 *   GET /v1/health          what the agent runs and how far behind sync is (status, deviceId,
 *                           connected, models, backlog, dropped, stream; read by edgeloop-agent status)
 *   GET /v1/health/live     200 while the process serves HTTP at all (systemd / container liveness)
 *   GET /v1/health/ready    200 when a prediction can succeed now; 503 with reasons otherwise
 *   GET /v1/models          active models and versions
 *   GET /metrics            Prometheus text format
 */
import type { Hono } from 'hono';
import type { Readiness } from './readiness.js';

export interface HealthRouteDeps {
  health: () => Record<string, unknown>;
  models: () => Array<{ name: string; version: number; sha256: string }>;
  ready: () => Readiness;
  metrics: { render(): Promise<string>; contentType: string };
}

export function registerHealthRoutes(app: Hono, deps: HealthRouteDeps): void {
  app.get('/v1/health', (c) => c.json(deps.health()));
  app.get('/v1/health/live', (c) => c.json({ status: 'live' }));
  app.get('/v1/health/ready', (c) => {
    const { ready, reasons } = deps.ready();
    if (ready) return c.json({ status: 'ready', models: deps.models() });
    return c.json({ status: 'not-ready', error: `not ready: ${reasons.join('; ')}`, reasons }, 503);
  });
  app.get('/v1/models', (c) => c.json({ models: deps.models() }));
  app.get('/metrics', async (c) =>
    c.body(await deps.metrics.render(), 200, { 'content-type': deps.metrics.contentType }),
  );
}
