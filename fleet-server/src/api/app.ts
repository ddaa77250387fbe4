/**
 * @module api/app
 * The fleet server's HTTP surface: REST API under /api/v1, the fleet console (console/) at /.
 * Errors are JSON `{ "error": reason }` with a 4xx for anything the caller can fix.
 */
import { Hono } from 'hono';
import type { HealthResponse } from '@edgeloop/protocol';
import type { Logger } from 'pino';
import { RegistryError } from '../registry/model-registry.js';
import type { ApiEnv } from './api-env.js';
import { auditRoutes } from './audit-routes.js';
import { datasetRoutes, isDatasetUpload } from './dataset-routes.js';
import { apiAuth } from './auth.js';
import { bodyLimits } from './body-limits.js';
import { identityRoutes } from './identity-routes.js';
import { fleetRoutes } from './fleet-routes.js';
import { keyRoutes } from './key-routes.js';
import { metricsRoutes } from './metrics-routes.js';
import { modelRoutes } from './model-routes.js';
import { monitoringQueryRoutes } from './monitoring-query-routes.js';
import { rolloutRoutes } from './rollout-routes.js';
import { buildOpenApiDocument } from './openapi.js';
import { responseContract, type ContractViolation } from './response-contract.js';
import { sampleRoutes } from './sample-routes.js';
import { sessionRoutes } from './session-routes.js';
import { trainingRoutes } from './training-routes.js';
import { monitoringRoutes } from './monitoring-routes.js';
import { loopRoutes } from './loop-routes.js';
import { createConsole } from '../console/console-app.js';
import type { ChangeMarkRepository } from '../store/fleet-store.js';

const MODEL_UPLOAD = /^\/api\/v1\/models\/?$/;

export function createFleetApi(
  deps: Parameters<typeof modelRoutes>[0] &
    Parameters<typeof fleetRoutes>[0] &
    Parameters<typeof sampleRoutes>[0] &
    Parameters<typeof datasetRoutes>[0] &
    Parameters<typeof keyRoutes>[0] &
    Parameters<typeof identityRoutes>[0] &
    Parameters<typeof sessionRoutes>[0] &
    Parameters<typeof apiAuth>[0] &
    Parameters<typeof rolloutRoutes>[0] &
    Parameters<typeof trainingRoutes>[0] &
    Parameters<typeof monitoringRoutes>[0] &
    Parameters<typeof monitoringQueryRoutes>[0] &
    Parameters<typeof loopRoutes>[0] &
    Parameters<typeof metricsRoutes>[0] & {
      health: () => Promise<HealthResponse>;
      log: Logger;
      /** What the console's live updates watch. */
      changes: ChangeMarkRepository;
      /** Check every answer against the REST contract; called for each one that breaks it (answered 500). */
      onContractViolation?: (violation: ContractViolation) => void;
    },
): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  if (deps.onContractViolation) {
    // The contract covers the API (and /metrics); console pages are HTML for people.
    app.use('/api/*', responseContract(deps.onContractViolation));
    app.use('/metrics', responseContract(deps.onContractViolation));
  }
  // Then: an unauthenticated request is refused before any body is read.
  app.use('/api/*', apiAuth(deps));
  // Second: only the (authenticated) uploads may send more than a small JSON body.
  app.use(
    '/api/*',
    bodyLimits({
      isUpload: (method, path) => (method === 'POST' && MODEL_UPLOAD.test(path)) || isDatasetUpload(method, path),
    }),
  );
  app.get('/api/v1/health', async (c) => c.json(await deps.health()));
  let openApi: Record<string, unknown> | undefined;
  app.get('/api/v1/openapi.json', async (c) =>
    c.json((openApi ??= buildOpenApiDocument((await deps.health()).version))),
  );
  app.route('/api/v1', modelRoutes(deps));
  app.route('/api/v1', keyRoutes(deps));
  app.route('/api/v1', fleetRoutes(deps));
  app.route('/api/v1', sampleRoutes(deps));
  app.route('/api/v1', datasetRoutes(deps));
  app.route('/api/v1', identityRoutes(deps));
  app.route('/api/v1', sessionRoutes(deps));
  app.route('/api/v1', auditRoutes(deps));
  app.route('/api/v1', rolloutRoutes(deps));
  app.route('/api/v1', trainingRoutes(deps));
  app.route('/api/v1', monitoringRoutes(deps));
  app.route('/api/v1', monitoringQueryRoutes(deps));
  app.route('/api/v1', loopRoutes(deps));
  app.route('/', metricsRoutes(deps));
  // Everything else is the console's: it calls this same app in-process for its data.
  const consoleApp = createConsole({
    apiFetch: (url, init, env) => Promise.resolve(app.request(url, init, env as never)),
    changes: deps.changes,
    log: deps.log,
  }).app;
  app.all('*', (c, next) => (c.req.path.startsWith('/api/') ? next() : consoleApp.fetch(c.req.raw, c.env)));
  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}; the API lives under /api/v1` }, 404));
  app.onError((err, c) => {
    if (err instanceof RegistryError) return c.json({ error: err.message }, err.status);
    deps.log.error({ err, path: c.req.path }, 'unexpected API error');
    return c.json({ error: `internal error: ${err.message}` }, 500);
  });
  return app;
}
