/**
 * @module api/app
 * The fleet server's HTTP surface: REST API under /api/v1, the status page at /.
 * Errors are JSON `{ "error": reason }` with a 4xx for anything the caller can fix.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from 'pino';
import { RegistryError } from '../registry/model-registry.js';
import { STATUS_PAGE } from './status-page.js';
import { fleetRoutes } from './fleet-routes.js';
import { modelRoutes } from './model-routes.js';
import { sampleRoutes } from './sample-routes.js';

export const MAX_UPLOAD_BYTES = 512 * 1024 * 1024;

export function createFleetApi(
  deps: Parameters<typeof modelRoutes>[0] & Parameters<typeof fleetRoutes>[0] & Parameters<typeof sampleRoutes>[0] & {
    health: () => Record<string, unknown>;
    log: Logger;
  },
): Hono {
  const app = new Hono();
  app.use('/api/*', bodyLimit({ maxSize: MAX_UPLOAD_BYTES, onError: (c) => c.json({ error: `request body exceeds ${MAX_UPLOAD_BYTES} bytes` }, 413) }));
  app.get('/', (c) => c.html(STATUS_PAGE));
  app.get('/api/v1/health', (c) => c.json(deps.health()));
  app.route('/api/v1', modelRoutes(deps));
  app.route('/api/v1', fleetRoutes(deps));
  app.route('/api/v1', sampleRoutes(deps));
  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}; the API lives under /api/v1` }, 404));
  app.onError((err, c) => {
    if (err instanceof RegistryError) return c.json({ error: err.message }, err.status);
    deps.log.error({ err, path: c.req.path }, 'unexpected API error');
    return c.json({ error: `internal error: ${err.message}` }, 500);
  });
  return app;
}
