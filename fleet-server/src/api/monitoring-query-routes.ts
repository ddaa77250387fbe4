/**
 * @module api/monitoring-query-routes
 * GET /api/v1/monitoring/series (a metric's time series), GET /api/v1/monitoring/histograms
 * (baseline vs live histograms of a quantity) and GET /api/v1/monitoring/drift (the fleet's drift
 * overview, paginated): the monitoring queries of monitoring-queries/, with their query strings
 * validated against the REST contract.
 */
import { Hono } from 'hono';
import { describeZodError } from '@edgeloop/protocol';
import { driftOverviewQuerySchema, histogramQuerySchema, seriesQuerySchema } from '@edgeloop/protocol/rest';
import { driftOverview } from '../monitoring-queries/drift-overview.js';
import { baselineLiveHistograms, metricSeries } from '../monitoring-queries/metric-queries.js';
import type { QueryDeps } from '../monitoring-queries/query-context.js';
import { storeReferences, type ReferenceSource } from '../monitoring-queries/reference-source.js';
import type { FleetStore } from '../store/fleet-store.js';
import type { ApiEnv } from './api-env.js';

export function monitoringQueryRoutes(deps: {
  store: FleetStore;
  /** Where versions' reference distributions come from (default: chosen live windows, else training summaries). */
  references?: ReferenceSource;
}): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const q: QueryDeps = {
    store: deps.store,
    references: deps.references ?? storeReferences(deps.store),
  };

  app.get('/monitoring/series', async (c) => {
    const parsed = seriesQuerySchema.safeParse(c.req.query());
    if (!parsed.success)
      return c.json(
        {
          error: `${describeZodError(parsed.error)}; e.g. ?model=distance&version=2&metric=error.mae&scope=fleet&step=60000`,
        },
        400,
      );
    return c.json(await metricSeries(q, parsed.data));
  });

  app.get('/monitoring/histograms', async (c) => {
    const parsed = histogramQuerySchema.safeParse(c.req.query());
    if (!parsed.success)
      return c.json(
        { error: `${describeZodError(parsed.error)}; e.g. ?model=distance&version=2&quantity=feature.brightness` },
        400,
      );
    return c.json(await baselineLiveHistograms(q, parsed.data));
  });

  app.get('/monitoring/drift', async (c) => {
    const parsed = driftOverviewQuerySchema.safeParse(c.req.query());
    if (!parsed.success)
      return c.json({ error: `${describeZodError(parsed.error)}; e.g. ?model=distance&limit=20` }, 400);
    return c.json(await driftOverview(q, parsed.data));
  });

  return app;
}
