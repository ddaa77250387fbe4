/**
 * @module api/local-api
 * The agent's HTTP API for local applications (127.0.0.1 by default). Every bad request gets a
 * 4xx with a reason in `{ "error": ... }`; nothing a client sends can take the agent down.
 *
 *   POST /v1/predict, /v1/models/{name}/predict               one prediction (api/predict-routes.ts)
 *   POST /v1/predict/batch, /v1/models/{name}/predict/batch   up to 256 predictions
 *   GET  /v1/health, /v1/health/live, /v1/health/ready        (api/health-routes.ts)
 *   GET  /v1/models                                           active models and versions
 *   GET  /metrics                                             Prometheus metrics
 *
 * Predict bodies: JSON tensors, a raw image or multipart/form-data (api/predict-body.ts). An
 * optional `x-request-id` header (1-128 characters) correlates a prediction with later
 * reference values; every response echoes it.
 */
import { Hono, type Context } from 'hono';
import { InputError } from '../predict/image-input.js';
import type { Predictor } from '../predict/predictor.js';
import { registerHealthRoutes, type HealthRouteDeps } from './health-routes.js';
import { MAX_BODY_BYTES, tooLarge } from './predict-body.js';
import { registerPredictRoutes } from './predict-routes.js';

export interface LocalApiDeps extends HealthRouteDeps {
  predictor: Predictor;
  /** Counts every 4xx/5xx answer (metrics). */
  onErrorStatus: (status: number) => void;
  onError: (err: unknown) => void;
}

export function createLocalApi(deps: LocalApiDeps): Hono {
  const app = new Hono();

  // Only the status is read after the handler: touching c.res.headers here would turn the Node
  // adapter's lightweight response into a full Web Response (~0.4 ms per prediction). Handlers
  // set x-request-id themselves (predict routes, onError, notFound).
  app.use('*', async (c, next) => {
    await next();
    if (c.res.status >= 400) deps.onErrorStatus(c.res.status);
  });
  // A declared oversize body is refused before a byte of it is read; undeclared (chunked) ones
  // are cut off by the body readers (predict-body.ts) as they pass the cap. Not hono's bodyLimit:
  // it builds the full Web Request and its body stream on every request (~0.3 ms per camera frame).
  app.use('/v1/*', async (c, next) => {
    const declared = c.req.header('content-length');
    if (declared !== undefined && Number(declared) > MAX_BODY_BYTES) throw tooLarge();
    await next();
  });

  registerPredictRoutes(app, deps);
  registerHealthRoutes(app, deps);

  app.notFound((c) =>
    echoRequestId(c).json(
      {
        error: `no route ${c.req.method} ${c.req.path}; see /v1/health, /v1/models, /v1/predict, /v1/predict/batch, /metrics`,
      },
      404,
    ),
  );
  app.onError((err, c) => {
    echoRequestId(c);
    if (err instanceof InputError) return c.json({ error: err.message }, err.status);
    deps.onError(err);
    return c.json({ error: `internal error: ${(err as Error).message}` }, 500);
  });
  return app;
}

/** Echoes a well-formed x-request-id on error answers too, so clients can correlate failures. */
function echoRequestId(c: Context): Context {
  const id = c.req.header('x-request-id');
  if (id && id.length <= 128) c.header('x-request-id', id);
  return c;
}
