/**
 * @module api/local-api
 * The agent's HTTP API for local applications (127.0.0.1 by default). Every bad request gets a
 * 4xx with a reason in `{ "error": ... }`; nothing a client sends can take the agent down.
 *
 *   POST /v1/predict                 the only active model
 *   POST /v1/models/{name}/predict   a named model
 *   GET  /v1/models                  active models and versions
 *   GET  /v1/health                  liveness + what the agent runs and how far behind sync is
 *
 * Predict bodies: `application/json` `{"inputs": {"<name>": {"shape": [...], "data": [...]}}}`, or
 * a raw image (`image/jpeg`, `image/png`, `image/webp`) preprocessed as the manifest declares.
 * Optional `x-request-id` header correlates a prediction with later reference values.
 */
import { Hono } from 'hono';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { InputError } from '../predict/image-input.js';
import type { PredictInput, Predictor } from '../predict/predictor.js';

export interface LocalApiDeps {
  predictor: Predictor;
  health: () => Record<string, unknown>;
  models: () => Array<{ name: string; version: number; sha256: string }>;
  onError: (err: unknown) => void;
}

const MAX_BODY_BYTES = 32 * 1024 * 1024;

export function createLocalApi(deps: LocalApiDeps): Hono {
  const app = new Hono();

  app.use(
    '/v1/*',
    bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => c.json({ error: `request body exceeds ${MAX_BODY_BYTES} bytes` }, 413) }),
  );

  const predict = async (c: Context, modelName: string | undefined) => {
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    let input: PredictInput;
    if (type === 'application/json') {
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return c.json({ error: 'body is not valid JSON' }, 400);
      }
      input = { kind: 'json', body };
    } else if (type.startsWith('image/')) {
      input = { kind: 'image', body: new Uint8Array(await c.req.arrayBuffer()) };
      if (input.body.length === 0) return c.json({ error: 'image body is empty' }, 400);
    } else {
      return c.json({ error: `unsupported content-type "${type || '(none)'}": send application/json tensors or an image/* body` }, 415);
    }
    const requestId = c.req.header('x-request-id');
    if (requestId !== undefined && (requestId.length === 0 || requestId.length > 128)) {
      return c.json({ error: 'x-request-id must be 1-128 characters' }, 400);
    }
    const result = await deps.predictor.predict(modelName, input, requestId);
    return c.json(result);
  };

  app.post('/v1/predict', (c) => predict(c, undefined));
  app.post('/v1/models/:name/predict', (c) => predict(c, c.req.param('name')));
  app.get('/v1/models', (c) => c.json({ models: deps.models() }));
  app.get('/v1/health', (c) => c.json(deps.health()));

  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}; see /v1/health, /v1/models, /v1/predict` }, 404));
  app.onError((err, c) => {
    if (err instanceof InputError) return c.json({ error: err.message }, err.status);
    deps.onError(err);
    return c.json({ error: `internal error: ${(err as Error).message}` }, 500);
  });
  return app;
}
