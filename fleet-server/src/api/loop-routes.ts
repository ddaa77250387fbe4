/**
 * @module api/loop-routes
 * GET /api/v1/loop/policies, GET/PUT/DELETE /api/v1/loop/policies/{model},
 * POST /api/v1/loop/policies/{model}/trigger, GET /api/v1/loop/runs[?model&state&before&limit],
 * GET /api/v1/loop/runs/{id}, POST /api/v1/loop/runs/{id}/cancel.
 *
 * Policies and runs are read and policies written here, straight through the store (policy
 * changes are audited as `loop.policy.set` and `loop.policy.delete`). Triggering and cancelling
 * go to the loop engine (LoopControl), which audits them; a server without the engine answers
 * those two with 503 and still serves the rest.
 */
import { Hono, type Context } from 'hono';
import { describeZodError } from '@edgeloop/protocol';
import {
  loopCancelRequestSchema,
  loopPolicyPathSchema,
  loopPolicySchema,
  loopRunListQuerySchema,
  loopRunPathSchema,
  loopTriggerRequestSchema,
  type LoopPolicyView,
} from '@edgeloop/protocol/rest';
import type { AuditLog } from '../audit/audit-log.js';
import type { LoopControl } from '../loop/loop-control.js';
import { RegistryError } from '../registry/model-registry.js';
import type { FleetStore, LoopPolicyRecord } from '../store/fleet-store.js';
import { actorOf, type ApiEnv } from './api-env.js';
import { readJsonObject } from './json-body.js';

const POLICY_EXAMPLE =
  '{"model": "distance", "triggers": [{"kind": "incident", "rules": ["drift"]}], "gate": {"minImprovement": 0.1}, "guards": {"maxRunsPerDay": 4}}';
const TRIGGER_EXAMPLE = '{"reason": "new sensor firmware", "force": false}';
const CANCEL_EXAMPLE = '{"reason": "wrong data window"}';
const DEFAULT_LIMIT = 100;

const NOT_RUNNING =
  'the retraining loop is not running on this server, so it cannot start or stop runs; policies and runs can still be read and set — check the server log at start-up for why the loop did not start';

/** What the API shows of a stored policy (where it came from stays in the store). */
export const policyView = (r: LoopPolicyRecord): LoopPolicyView => ({
  policy: r.policy,
  updatedAt: r.updatedAt,
  updatedBy: r.updatedBy,
});

export function loopRoutes(deps: {
  store: FleetStore;
  audit: AuditLog;
  /** The loop engine; undefined where it does not run (trigger and cancel answer 503). */
  loop?: LoopControl | undefined;
}): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { audit } = deps;
  const repo = deps.store.loop;

  const modelParam = (c: Context<ApiEnv>): string => {
    const p = loopPolicyPathSchema.safeParse({ model: c.req.param('model') });
    if (!p.success) throw new RegistryError(400, `model name: ${describeZodError(p.error)}`);
    return p.data.model;
  };
  const runParam = (c: Context<ApiEnv>): string => {
    const p = loopRunPathSchema.safeParse({ id: c.req.param('id') });
    if (!p.success)
      throw new RegistryError(400, `${describeZodError(p.error)}; edgeloop loop list shows the runs with their ids`);
    return p.data.id;
  };
  const noPolicy = (model: string) =>
    new RegistryError(
      404,
      `no loop policy for model "${model}"; set one with edgeloop loop policy set <file> (PUT /api/v1/loop/policies/${model}); edgeloop loop policy list shows the policies`,
    );

  app.get('/loop/policies', async (c) => c.json({ policies: (await repo.listPolicies()).map(policyView) }));

  app.get('/loop/policies/:model', async (c) => {
    const model = modelParam(c);
    const record = await repo.getPolicy(model);
    if (!record) throw noPolicy(model);
    return c.json({ policy: policyView(record) });
  });

  app.put('/loop/policies/:model', async (c) => {
    const body = await readJsonObject(c, { example: POLICY_EXAMPLE });
    const model = modelParam(c);
    if (body.model !== undefined && body.model !== model)
      throw new RegistryError(
        400,
        `the body's model (${JSON.stringify(body.model)}) is not the path's (${model}); a policy is set at /api/v1/loop/policies/<its model>`,
      );
    const parsed = loopPolicySchema.safeParse({ ...body, model });
    if (!parsed.success)
      throw new RegistryError(
        400,
        `invalid loop policy: ${describeZodError(parsed.error)}; send e.g. ${POLICY_EXAMPLE}`,
      );
    if ((await deps.store.models.latestVersion(model)) === 0)
      throw new RegistryError(
        404,
        `no model "${model}" is registered, so the loop has nothing to retrain; push a version first (edgeloop models push) — edgeloop models list shows the models`,
      );
    const record: LoopPolicyRecord = {
      policy: parsed.data,
      updatedAt: Date.now(),
      updatedBy: actorOf(c),
      source: 'api',
    };
    await repo.putPolicy(record);
    await audit.record(actorOf(c), 'loop.policy.set', model, {
      enabled: record.policy.enabled,
      triggers: record.policy.triggers.map((t) => t.kind),
    });
    return c.json({ policy: policyView(record) });
  });

  app.delete('/loop/policies/:model', async (c) => {
    const model = modelParam(c);
    if (!(await repo.deletePolicy(model))) throw noPolicy(model);
    await audit.record(actorOf(c), 'loop.policy.delete', model);
    return c.json({ removed: model });
  });

  app.post('/loop/policies/:model/trigger', async (c) => {
    const parsed = loopTriggerRequestSchema.safeParse(
      await readJsonObject(c, { example: TRIGGER_EXAMPLE, optional: true }),
    );
    if (!parsed.success)
      throw new RegistryError(400, `${describeZodError(parsed.error)}; send e.g. ${TRIGGER_EXAMPLE} (or nothing)`);
    const model = modelParam(c);
    if (!deps.loop) return c.json({ error: NOT_RUNNING }, 503);
    const { reason, force } = parsed.data;
    const run = await deps.loop.trigger(model, reason === undefined ? { force } : { reason, force }, actorOf(c));
    return c.json({ run }, 202);
  });

  app.get('/loop/runs', async (c) => {
    const q = loopRunListQuerySchema.safeParse(c.req.query());
    if (!q.success) return c.json({ error: describeZodError(q.error) }, 400);
    const limit = q.data.limit ?? DEFAULT_LIMIT;
    const runs = await repo.listRuns({ ...q.data, limit });
    const next = runs.length === limit ? runs[runs.length - 1]!.createdAt : null;
    return c.json({ runs, next });
  });

  app.get('/loop/runs/:id', async (c) => {
    const id = runParam(c);
    const run = await repo.getRun(id);
    if (!run) throw new RegistryError(404, `no loop run ${id}; edgeloop loop list shows the runs`);
    return c.json({ run });
  });

  app.post('/loop/runs/:id/cancel', async (c) => {
    const parsed = loopCancelRequestSchema.safeParse(
      await readJsonObject(c, { example: CANCEL_EXAMPLE, optional: true }),
    );
    if (!parsed.success)
      throw new RegistryError(400, `${describeZodError(parsed.error)}; send e.g. ${CANCEL_EXAMPLE} (or nothing)`);
    const id = runParam(c);
    if (!deps.loop) return c.json({ error: NOT_RUNNING }, 503);
    return c.json({ run: await deps.loop.cancel(id, parsed.data.reason, actorOf(c)) });
  });

  return app;
}
