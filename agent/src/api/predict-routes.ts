/**
 * @module api/predict-routes
 *   POST /v1/predict                        the only active model
 *   POST /v1/models/{name}/predict          a named model
 *   POST /v1/predict/batch                  a batch for the only active model
 *   POST /v1/models/{name}/predict/batch    a batch for a named model
 *
 * A batch answers 200 with `{"results": [...]}` in item order whenever the request itself was
 * readable; each result carries its own `status`: 200 with the prediction (durably buffered, like
 * a single predict), or the 4xx/5xx a single request with that item would have got, with
 * `error`. One bad item never fails the others. The request as a whole fails only when it
 * cannot be read (400/415), has too many items (413) or addresses no active model (404/400).
 */
import type { Context, Hono } from 'hono';
import type { Predictor } from '../predict/predictor.js';
import { BodyPool } from './body-pool.js';
import { headerRequestId, readBatchBody, readPredictBody } from './predict-body.js';

export interface PredictRouteDeps {
  predictor: Predictor;
  onError: (err: unknown) => void;
}

export function registerPredictRoutes(app: Hono, deps: PredictRouteDeps): void {
  const bodies = new BodyPool();
  const predict = async (c: Context, modelName: string | undefined) => {
    const requestId = headerRequestId(c);
    const input = await readPredictBody(c, bodies);
    let result;
    try {
      result = await deps.predictor.predict(modelName, input.value, requestId);
    } finally {
      // The record is committed and input sampling has stored or copied the image by now.
      input.release();
    }
    // The id used (header, or the body's requestId) goes back, so a client can correlate either way.
    if (result.requestId) c.header('x-request-id', result.requestId);
    return c.json(result);
  };

  const batch = async (c: Context, modelName: string | undefined) => {
    headerRequestId(c);
    const items = await readBatchBody(c, bodies);
    const results = await deps.predictor.predictBatch(modelName, items);
    return c.json({
      results: results.map((r) => {
        if ('result' in r) return { index: r.index, status: r.status, ...r.result, batchSize: r.batchSize };
        if (r.status >= 500) deps.onError(r.cause ?? r.error);
        return { index: r.index, status: r.status, error: r.error };
      }),
    });
  };

  app.post('/v1/predict', (c) => predict(c, undefined));
  app.post('/v1/models/:name/predict', (c) => predict(c, c.req.param('name')));
  app.post('/v1/predict/batch', (c) => batch(c, undefined));
  app.post('/v1/models/:name/predict/batch', (c) => batch(c, c.req.param('name')));
}
