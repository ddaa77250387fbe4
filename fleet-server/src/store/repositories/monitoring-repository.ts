/**
 * @module store/repositories/monitoring-repository
 * The monitoring_* tables: rules, rule states, alerts, incidents, webhook deliveries, reference
 * windows and the local alerts already taken. Bodies are JSON; the columns beside them are what
 * lists and look-ups filter on, written from the body so the two never disagree.
 */
import type {
  AlertQuery,
  AlertRecord,
  IncidentQuery,
  IncidentRecord,
  MonitoringRepository,
  ReferenceWindowRecord,
  RuleRecord,
  RuleStateRecord,
  WebhookDelivery,
} from '../monitoring-store-types.js';
import { count, type RepositoryContext } from './context.js';

const DEFAULT_LIMIT = 100;
const OPEN_ALERT_STATES = ['pending', 'firing'];

const parse = <T>(row: { body: string }): T => JSON.parse(row.body) as T;
/** Incidents stored before `resolvedBy` existed read as resolved by nothing but time. */
const parseIncident = (row: { body: string }): IncidentRecord => {
  const incident = parse<IncidentRecord>(row);
  return { ...incident, resolvedBy: incident.resolvedBy ?? null };
};

export class KyselyMonitoringRepository implements MonitoringRepository {
  constructor(private readonly ctx: RepositoryContext) {}

  async putRule(rule: RuleRecord): Promise<void> {
    const row = { name: rule.rule.name, body: JSON.stringify(rule), updated_at: rule.updatedAt };
    await this.ctx
      .db()
      .insertInto('monitoring_rules')
      .values(row)
      .onConflict((oc) => oc.column('name').doUpdateSet({ body: row.body, updated_at: row.updated_at }))
      .execute();
  }

  async getRule(name: string): Promise<RuleRecord | undefined> {
    const row = await this.ctx
      .db()
      .selectFrom('monitoring_rules')
      .select('body')
      .where('name', '=', name)
      .executeTakeFirst();
    return row ? parse<RuleRecord>(row) : undefined;
  }

  async listRules(q: { after?: string; limit?: number } = {}): Promise<RuleRecord[]> {
    let query = this.ctx
      .db()
      .selectFrom('monitoring_rules')
      .select('body')
      .orderBy('name')
      .limit(q.limit ?? DEFAULT_LIMIT);
    if (q.after !== undefined) query = query.where('name', '>', q.after);
    return (await query.execute()).map((r) => parse<RuleRecord>(r));
  }

  async deleteRule(name: string): Promise<boolean> {
    return this.ctx.atomic(async () => {
      await this.ctx.db().deleteFrom('monitoring_rule_states').where('rule', '=', name).execute();
      const r = await this.ctx.db().deleteFrom('monitoring_rules').where('name', '=', name).executeTakeFirst();
      return count(r.numDeletedRows) > 0;
    });
  }

  async ruleStates(): Promise<RuleStateRecord[]> {
    const rows = await this.ctx.db().selectFrom('monitoring_rule_states').select('body').execute();
    return rows.map((r) => parse<RuleStateRecord>(r));
  }

  async putRuleState(s: RuleStateRecord): Promise<void> {
    const body = JSON.stringify(s);
    await this.ctx
      .db()
      .insertInto('monitoring_rule_states')
      .values({ rule: s.rule, model: s.model, version: s.version, scope: s.scope, body })
      .onConflict((oc) => oc.columns(['rule', 'model', 'version', 'scope']).doUpdateSet({ body }))
      .execute();
  }

  async putAlert(a: AlertRecord): Promise<void> {
    const cols = { state: a.state, incident_id: a.incidentId, body: JSON.stringify(a) };
    await this.ctx
      .db()
      .insertInto('monitoring_alerts')
      .values({
        id: a.id,
        rule: a.rule,
        model: a.model,
        version: a.version,
        scope: a.scope,
        device_id: a.deviceId,
        ...cols,
      })
      .onConflict((oc) => oc.column('id').doUpdateSet(cols))
      .execute();
  }

  async getAlert(id: string): Promise<AlertRecord | undefined> {
    const row = await this.ctx
      .db()
      .selectFrom('monitoring_alerts')
      .select('body')
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? parse<AlertRecord>(row) : undefined;
  }

  async listAlerts(q: AlertQuery = {}): Promise<AlertRecord[]> {
    let query = this.ctx
      .db()
      .selectFrom('monitoring_alerts')
      .select('body')
      .orderBy('id', 'desc')
      .limit(q.limit ?? DEFAULT_LIMIT);
    if (q.state !== undefined) query = query.where('state', '=', q.state);
    if (q.model !== undefined) query = query.where('model', '=', q.model);
    if (q.device !== undefined) query = query.where('device_id', '=', q.device);
    if (q.rule !== undefined) query = query.where('rule', '=', q.rule);
    if (q.incidentId !== undefined) query = query.where('incident_id', '=', q.incidentId);
    if (q.before !== undefined) query = query.where('id', '<', q.before);
    return (await query.execute()).map((r) => parse<AlertRecord>(r));
  }

  async openDeviceAlertCounts(deviceIds?: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const chunks: Array<readonly string[] | undefined> = deviceIds === undefined ? [undefined] : [];
    for (let i = 0; deviceIds && i < deviceIds.length; i += 500) chunks.push(deviceIds.slice(i, i + 500));
    for (const chunk of chunks) {
      const rows = await this.ctx
        .db()
        .selectFrom('monitoring_alerts')
        .select((eb) => ['device_id', eb.fn.countAll<number | string | bigint>().as('n')])
        .where('state', 'in', OPEN_ALERT_STATES)
        .where('device_id', 'is not', null)
        .$if(chunk !== undefined, (q) => q.where('device_id', 'in', chunk!))
        .groupBy('device_id')
        .execute();
      for (const r of rows) if (r.device_id !== null) out.set(r.device_id, Number(r.n));
    }
    return out;
  }

  async openAlert(key: {
    rule: string;
    model: string;
    version: number;
    scope: string;
  }): Promise<AlertRecord | undefined> {
    const row = await this.ctx
      .db()
      .selectFrom('monitoring_alerts')
      .select('body')
      .where('rule', '=', key.rule)
      .where('model', '=', key.model)
      .where('version', '=', key.version)
      .where('scope', '=', key.scope)
      .where('state', 'in', OPEN_ALERT_STATES)
      .orderBy('id', 'desc')
      .executeTakeFirst();
    return row ? parse<AlertRecord>(row) : undefined;
  }

  async putIncident(i: IncidentRecord): Promise<void> {
    const cols = { state: i.state, body: JSON.stringify(i) };
    await this.ctx
      .db()
      .insertInto('monitoring_incidents')
      .values({ id: i.id, rule: i.rule, model: i.model, version: i.version, ...cols })
      .onConflict((oc) => oc.column('id').doUpdateSet(cols))
      .execute();
  }

  async getIncident(id: string): Promise<IncidentRecord | undefined> {
    const row = await this.ctx
      .db()
      .selectFrom('monitoring_incidents')
      .select('body')
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? parseIncident(row) : undefined;
  }

  async listIncidents(q: IncidentQuery = {}): Promise<IncidentRecord[]> {
    let query = this.ctx
      .db()
      .selectFrom('monitoring_incidents')
      .select('body')
      .orderBy('id', 'desc')
      .limit(q.limit ?? DEFAULT_LIMIT);
    if (q.state !== undefined) query = query.where('state', '=', q.state);
    if (q.model !== undefined) query = query.where('model', '=', q.model);
    if (q.before !== undefined) query = query.where('id', '<', q.before);
    return (await query.execute()).map((r) => parseIncident(r));
  }

  async openIncident(key: { rule: string; model: string; version: number }): Promise<IncidentRecord | undefined> {
    const row = await this.ctx
      .db()
      .selectFrom('monitoring_incidents')
      .select('body')
      .where('rule', '=', key.rule)
      .where('model', '=', key.model)
      .where('version', '=', key.version)
      .where('state', '=', 'open')
      .orderBy('id', 'desc')
      .executeTakeFirst();
    return row ? parseIncident(row) : undefined;
  }

  async putDelivery(d: WebhookDelivery): Promise<void> {
    const cols = { status: d.status, next_attempt_at: d.nextAttemptAt, body: JSON.stringify(d) };
    await this.ctx
      .db()
      .insertInto('monitoring_deliveries')
      .values({ id: d.id, ...cols })
      .onConflict((oc) => oc.column('id').doUpdateSet(cols))
      .execute();
  }

  async dueDeliveries(now: number, limit = DEFAULT_LIMIT): Promise<WebhookDelivery[]> {
    const rows = await this.ctx
      .db()
      .selectFrom('monitoring_deliveries')
      .select('body')
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .orderBy('next_attempt_at')
      .limit(limit)
      .execute();
    return rows.map((r) => parse<WebhookDelivery>(r));
  }

  async getDelivery(id: string): Promise<WebhookDelivery | undefined> {
    const row = await this.ctx
      .db()
      .selectFrom('monitoring_deliveries')
      .select('body')
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? parse<WebhookDelivery>(row) : undefined;
  }

  async setReferenceWindow(r: ReferenceWindowRecord): Promise<void> {
    const body = JSON.stringify(r);
    await this.ctx
      .db()
      .insertInto('monitoring_references')
      .values({ model: r.model, version: r.version, body })
      .onConflict((oc) => oc.columns(['model', 'version']).doUpdateSet({ body }))
      .execute();
  }

  async getReferenceWindow(model: string, version: number): Promise<ReferenceWindowRecord | undefined> {
    const row = await this.ctx
      .db()
      .selectFrom('monitoring_references')
      .select('body')
      .where('model', '=', model)
      .where('version', '=', version)
      .executeTakeFirst();
    return row ? parse<ReferenceWindowRecord>(row) : undefined;
  }

  async markDeviceAlert(deviceId: string, stream: string, seq: number): Promise<boolean> {
    const r = await this.ctx
      .db()
      .insertInto('monitoring_device_alerts')
      .values({ device_id: deviceId, stream, seq })
      .onConflict((oc) => oc.columns(['device_id', 'stream', 'seq']).doNothing())
      .executeTakeFirst();
    return count(r.numInsertedOrUpdatedRows) > 0;
  }

  async forgetDeviceAlert(deviceId: string, stream: string, seq: number): Promise<void> {
    await this.ctx
      .db()
      .deleteFrom('monitoring_device_alerts')
      .where('device_id', '=', deviceId)
      .where('stream', '=', stream)
      .where('seq', '=', seq)
      .execute();
  }
}
