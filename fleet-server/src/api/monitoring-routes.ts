/**
 * @module api/monitoring-routes
 * GET/POST /api/v1/rules, GET/DELETE /api/v1/rules/{name}, PUT /api/v1/rules/{name}/enabled,
 * GET /api/v1/alerts, GET /api/v1/incidents[/{id}], PUT /api/v1/models/{name}/{version}/reference.
 * Every change is audited (`rule.put`, `rule.remove`, `rule.enable`, `rule.disable`, `model.reference`).
 */
import { Hono } from 'hono';
import { describeZodError, parseModelVersion, type ScopeKey } from '@edgeloop/protocol';
import {
  alertListQuerySchema,
  incidentListQuerySchema,
  referenceWindowRequestSchema,
  ruleDefinitionSchema,
  ruleEnableSchema,
  ruleListQuerySchema,
  splitRuleInput,
} from '@edgeloop/protocol/rest';
import type { AuditLog } from '../audit/audit-log.js';
import type { Monitoring } from '../monitoring/monitoring-service.js';
import { RegistryError } from '../registry/model-registry.js';
import type { FleetStore } from '../store/fleet-store.js';
import { actorOf, type ApiEnv } from './api-env.js';
import { readJsonObject } from './json-body.js';

const RULE_EXAMPLE =
  '{"rule": {"name": "saturation-band", "metric": "feature.saturation.mean", "scope": "version", "condition": {"op": "outside", "low": 0.4, "high": 0.6}, "windowMs": 300000, "forMs": 60000}, "actions": [{"type": "log"}]}';

/** The next page's cursor: the last item's key when the page is full. */
const nextOf = <T>(items: T[], limit: number, key: (t: T) => string): string | null =>
  items.length === limit && items.length > 0 ? key(items[items.length - 1]!) : null;

export function monitoringRoutes(deps: { monitoring: Monitoring; store: FleetStore; audit: AuditLog }): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { monitoring, audit } = deps;
  const repo = deps.store.monitoring;
  const noRule = (name: string) =>
    new RegistryError(404, `no rule "${name}"; edgeloop rules list shows the rules (stored and default)`);

  app.get('/rules', async (c) => {
    const q = ruleListQuerySchema.safeParse(c.req.query());
    if (!q.success) return c.json({ error: describeZodError(q.error) }, 400);
    const limit = q.data.limit ?? 100;
    const rules = await monitoring.rules({ limit, ...(q.data.after ? { after: q.data.after } : {}) });
    return c.json({ rules, next: nextOf(rules, limit, (r) => r.rule.name) });
  });

  app.post('/rules', async (c) => {
    const parsed = ruleDefinitionSchema.safeParse(splitRuleInput(await readJsonObject(c, { example: RULE_EXAMPLE })));
    if (!parsed.success)
      return c.json({ error: `invalid rule: ${describeZodError(parsed.error)}; send e.g. ${RULE_EXAMPLE}` }, 400);
    const rule = await monitoring.putRule(parsed.data);
    await audit.record(actorOf(c), 'rule.put', rule.rule.name, { metric: rule.rule.metric, scope: rule.rule.scope });
    return c.json({ rule });
  });

  app.get('/rules/:name', async (c) => {
    const rule = await monitoring.rule(c.req.param('name'));
    if (!rule) throw noRule(c.req.param('name'));
    return c.json({ rule });
  });

  app.delete('/rules/:name', async (c) => {
    const name = c.req.param('name');
    if (!(await repo.deleteRule(name)))
      throw new RegistryError(
        404,
        (await monitoring.rule(name))
          ? `"${name}" is a default rule: it cannot be removed; switch it off with edgeloop rules disable ${name}`
          : `no stored rule "${name}"; edgeloop rules list shows them`,
      );
    await audit.record(actorOf(c), 'rule.remove', name);
    return c.json({ removed: name });
  });

  app.put('/rules/:name/enabled', async (c) => {
    const parsed = ruleEnableSchema.safeParse(await readJsonObject(c, { example: '{"enabled": false}' }));
    if (!parsed.success) return c.json({ error: `${describeZodError(parsed.error)}; send {"enabled": false}` }, 400);
    const name = c.req.param('name');
    const rule = await monitoring.setEnabled(name, parsed.data.enabled);
    if (!rule) throw noRule(name);
    await audit.record(actorOf(c), parsed.data.enabled ? 'rule.enable' : 'rule.disable', name);
    return c.json({ rule });
  });

  app.get('/alerts', async (c) => {
    const q = alertListQuerySchema.safeParse(c.req.query());
    if (!q.success) return c.json({ error: describeZodError(q.error) }, 400);
    const limit = q.data.limit ?? 100;
    const alerts = await repo.listAlerts({ ...q.data, limit });
    return c.json({ alerts, next: nextOf(alerts, limit, (a) => a.id) });
  });

  app.get('/incidents', async (c) => {
    const q = incidentListQuerySchema.safeParse(c.req.query());
    if (!q.success) return c.json({ error: describeZodError(q.error) }, 400);
    const limit = q.data.limit ?? 100;
    const incidents = await repo.listIncidents({ ...q.data, limit });
    return c.json({ incidents, next: nextOf(incidents, limit, (i) => i.id) });
  });

  app.get('/incidents/:id', async (c) => {
    const incident = await repo.getIncident(c.req.param('id'));
    if (!incident) throw new RegistryError(404, `no incident ${c.req.param('id')}; edgeloop incidents list shows them`);
    const alerts = await repo.listAlerts({ incidentId: incident.id, limit: 1000 });
    const loopRuns = (await deps.store.loop.listRuns({ model: incident.model, limit: 200 }))
      .filter((r) => r.trigger.incidentId === incident.id)
      .map((r) => ({ id: r.id, state: r.state, step: r.step, version: r.version, reason: r.reason }));
    return c.json({ incident, alerts, loopRuns });
  });

  app.put('/models/:name/:version/reference', async (c) => {
    const version = parseModelVersion(c.req.param('version'));
    if (!version.ok) throw new RegistryError(400, version.reason);
    const name = c.req.param('name');
    if (!(await deps.store.models.get(name, version.value)))
      throw new RegistryError(404, `no model ${name} v${version.value}; edgeloop models list shows the versions`);
    const parsed = referenceWindowRequestSchema.safeParse(
      await readJsonObject(c, { example: '{"scope": "fleet", "from": 1700000000000, "to": 1700003600000}' }),
    );
    if (!parsed.success)
      return c.json(
        { error: `${describeZodError(parsed.error)}; send {"scope": "fleet", "from": <epoch ms>, "to": <epoch ms>}` },
        400,
      );
    const reference = {
      model: name,
      version: version.value,
      scope: parsed.data.scope as ScopeKey,
      from: parsed.data.from,
      to: parsed.data.to,
      setAt: Date.now(),
      setBy: actorOf(c),
    };
    await repo.setReferenceWindow(reference);
    await audit.record(actorOf(c), 'model.reference', `${name}@${version.value}`, { ...parsed.data });
    return c.json({ reference });
  });

  return app;
}
