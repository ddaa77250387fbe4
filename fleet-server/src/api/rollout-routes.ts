/**
 * @module api/rollout-routes
 * POST /api/v1/rollouts (create), POST /api/v1/rollouts/preview (the waves create would start
 * with, creating nothing), GET /api/v1/rollouts[?model=&state=&limit=], GET
 * /api/v1/rollouts/{id} (progress: counts per state and wave, gate readings, live error per arm),
 * POST /api/v1/rollouts/{id}/{pause|resume|abort|rollback|promote} with an optional
 * `{"reason": "..."}`. Every change is audited under the caller's name.
 */
import { Hono } from 'hono';
import { describeZodError } from '@edgeloop/protocol';
import { rolloutActionRequestSchema, rolloutListQuerySchema } from '@edgeloop/protocol/rest';
import { RegistryError } from '../registry/model-registry.js';
import type { RolloutEngine } from '../rollouts/rollout-engine.js';
import { OPERATOR_VERBS, type OperatorVerb } from '../rollouts/rollout-actions.js';
import { parseCreateRollout } from '../rollouts/rollout-params.js';
import { detailView, listView, summaryOf } from '../rollouts/rollout-view.js';
import { actorOf, type ApiEnv } from './api-env.js';
import { readJsonObject } from './json-body.js';

const CREATE_EXAMPLE =
  '{"model": "distance", "version": 3, "strategy": "staged", "target": {"all": true}, "parameters": {"waves": [{"percent": 10}, {"percent": 100}]}}';

export function rolloutRoutes(deps: { rollouts: RolloutEngine }): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const engine = deps.rollouts;

  app.post('/rollouts', async (c) => {
    const parsed = parseCreateRollout(await readJsonObject(c, { example: CREATE_EXAMPLE }));
    if (!parsed.ok) return c.json({ error: `invalid rollout: ${parsed.reason}` }, 400);
    const r = await engine.create(parsed.value, actorOf(c));
    return c.json({ rollout: summaryOf(r, await engine.store.devices(r.id)) }, 201);
  });

  app.post('/rollouts/preview', async (c) => {
    const parsed = parseCreateRollout(await readJsonObject(c, { example: CREATE_EXAMPLE }));
    if (!parsed.ok) return c.json({ error: `invalid rollout: ${parsed.reason}` }, 400);
    return c.json(await engine.preview(parsed.value));
  });

  app.get('/rollouts', async (c) => {
    const q = rolloutListQuerySchema.safeParse(c.req.query());
    if (!q.success) return c.json({ error: describeZodError(q.error) }, 400);
    return c.json({ rollouts: await listView(engine, q.data) });
  });

  app.get('/rollouts/:id', async (c) => {
    const r = await engine.store.get(c.req.param('id'));
    if (!r) throw new RegistryError(404, `no rollout "${c.req.param('id')}"; edgeloop rollouts list shows them`);
    return c.json(await detailView(engine, r));
  });

  app.post('/rollouts/:id/:verb', async (c) => {
    const verb = c.req.param('verb');
    if (!(OPERATOR_VERBS as readonly string[]).includes(verb)) {
      return c.json({ error: `unknown rollout action "${verb}"; use one of ${OPERATOR_VERBS.join(', ')}` }, 404);
    }
    const parsed = rolloutActionRequestSchema.safeParse(
      await readJsonObject(c, { example: '{"reason": "why"} (or no body)', optional: true }),
    );
    if (!parsed.success)
      return c.json({ error: `${describeZodError(parsed.error)}; send {"reason": "why"} or nothing` }, 400);
    const r = await engine.operate(verb as OperatorVerb, c.req.param('id'), actorOf(c), parsed.data.reason);
    return c.json({ rollout: summaryOf(r, await engine.store.devices(r.id)) });
  });

  return app;
}
