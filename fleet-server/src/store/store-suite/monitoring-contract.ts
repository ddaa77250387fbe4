/**
 * @module store/store-suite/monitoring-contract
 * The store contract for monitoring: rules upserted and listed by name page by page, rule states
 * surviving a reopen of the repository, alerts and incidents found by key while open and listed
 * newest first with filters, due webhook deliveries in order, reference windows, and re-sent
 * local alerts recognised.
 */
import assert from 'node:assert/strict';
import { ruleSchema } from '@edgeloop/protocol';
import type { AlertRecord, IncidentRecord, RuleRecord, WebhookDelivery } from '../fleet-store.js';
import type { WithStore } from './fixtures.js';

const ruleRecord = (name: string, at = 1): RuleRecord => ({
  rule: ruleSchema.parse({
    name,
    metric: 'output.psi',
    scope: 'version',
    condition: { op: 'above', threshold: 0.25, clear: 0.1 },
    windowMs: 300_000,
  }),
  actions: [{ type: 'log' }],
  source: 'api',
  createdAt: at,
  updatedAt: at,
});

export const alertRecord = (id: string, extra: Partial<AlertRecord> = {}): AlertRecord => ({
  id,
  rule: 'drift',
  metric: 'output.psi',
  severity: 'warning',
  source: 'server',
  model: 'distance',
  version: 1,
  scope: 'device:d1',
  deviceId: 'd1',
  devices: ['d1'],
  state: 'firing',
  since: 10,
  firedAt: 20,
  resolvedAt: null,
  updatedAt: 20,
  value: 0.4,
  threshold: 0.25,
  samples: 500,
  incidentId: null,
  reason: null,
  history: [{ state: 'firing', ts: 20, value: 0.4 }],
  ...extra,
});

const incident = (id: string, extra: Partial<IncidentRecord> = {}): IncidentRecord => ({
  id,
  rule: 'drift',
  metric: 'output.psi',
  severity: 'warning',
  model: 'distance',
  version: 1,
  state: 'open',
  openedAt: 20,
  updatedAt: 20,
  quietSince: null,
  resolvedAt: null,
  members: [{ scope: 'device:d1', deviceId: 'd1', alertId: 'al-1', since: 20, state: 'firing' }],
  devices: ['d1'],
  resolvedBy: null,
  ...extra,
});

const delivery = (
  id: string,
  nextAttemptAt: number,
  status: WebhookDelivery['status'] = 'pending',
): WebhookDelivery => ({
  id,
  url: 'http://127.0.0.1:9/hook',
  body: '{}',
  event: 'incident.opened',
  status,
  attempts: 0,
  nextAttemptAt,
  lastError: null,
  createdAt: 1,
  deliveredAt: null,
});

export function monitoringContract(withStore: WithStore): void {
  withStore('monitoring rules upsert by name, list in name order page by page, delete with their states', async (s) => {
    const m = s.monitoring;
    for (const name of ['c', 'a', 'b']) await m.putRule(ruleRecord(name));
    await m.putRule({ ...ruleRecord('a', 5), actions: [] });
    assert.deepEqual((await m.getRule('a'))?.actions, []);
    assert.deepEqual(
      (await m.listRules({ limit: 2 })).map((r) => r.rule.name),
      ['a', 'b'],
    );
    assert.deepEqual(
      (await m.listRules({ after: 'b' })).map((r) => r.rule.name),
      ['c'],
    );
    await m.putRuleState({
      rule: 'a',
      model: 'distance',
      version: 1,
      scope: 'fleet',
      state: { phase: 'pending', since: 5, firedAt: null, value: 0.3, samples: 200 },
      alertId: 'al-1',
    });
    assert.equal((await m.ruleStates()).length, 1);
    assert.equal(await m.deleteRule('a'), true);
    assert.equal(await m.deleteRule('a'), false);
    assert.equal((await m.ruleStates()).length, 0);
  });

  withStore('monitoring alerts: the open one of a key, lists newest first with filters and pages', async (s) => {
    const m = s.monitoring;
    await m.putAlert(alertRecord('al-1', { state: 'resolved', resolvedAt: 30 }));
    await m.putAlert(alertRecord('al-2'));
    await m.putAlert(alertRecord('al-3', { scope: 'device:d2', deviceId: 'd2', state: 'pending', firedAt: null }));
    const key = { rule: 'drift', model: 'distance', version: 1 };
    assert.equal((await m.openAlert({ ...key, scope: 'device:d1' }))?.id, 'al-2');
    assert.equal(await m.openAlert({ ...key, version: 2, scope: 'device:d1' }), undefined);
    assert.deepEqual(
      (await m.listAlerts()).map((a) => a.id),
      ['al-3', 'al-2', 'al-1'],
    );
    assert.deepEqual(
      (await m.listAlerts({ device: 'd1' })).map((a) => a.id),
      ['al-2', 'al-1'],
    );
    assert.deepEqual(
      (await m.listAlerts({ state: 'firing' })).map((a) => a.id),
      ['al-2'],
    );
    assert.deepEqual(
      (await m.listAlerts({ before: 'al-3', limit: 1 })).map((a) => a.id),
      ['al-2'],
    );
    await m.putAlert(alertRecord('al-2', { incidentId: 'in-1' }));
    assert.deepEqual(
      (await m.listAlerts({ incidentId: 'in-1' })).map((a) => a.id),
      ['al-2'],
    );
    assert.equal((await m.getAlert('al-2'))?.incidentId, 'in-1');
  });

  withStore('monitoring incidents: the open one of (rule, model, version), lists newest first', async (s) => {
    const m = s.monitoring;
    await m.putIncident(incident('in-1', { state: 'resolved', resolvedAt: 40 }));
    await m.putIncident(incident('in-2'));
    assert.equal((await m.openIncident({ rule: 'drift', model: 'distance', version: 1 }))?.id, 'in-2');
    assert.deepEqual(
      (await m.listIncidents({ state: 'resolved' })).map((i) => i.id),
      ['in-1'],
    );
    assert.deepEqual(
      (await m.listIncidents()).map((i) => i.id),
      ['in-2', 'in-1'],
    );
    assert.equal((await m.getIncident('in-2'))?.members[0]?.deviceId, 'd1');
  });

  withStore('monitoring webhook deliveries due oldest first, delivered ones no more', async (s) => {
    const m = s.monitoring;
    await m.putDelivery(delivery('wh-2', 200));
    await m.putDelivery(delivery('wh-1', 100));
    await m.putDelivery(delivery('wh-3', 900));
    await m.putDelivery(delivery('wh-4', 50, 'delivered'));
    assert.deepEqual(
      (await m.dueDeliveries(500)).map((d) => d.id),
      ['wh-1', 'wh-2'],
    );
    await m.putDelivery({ ...delivery('wh-1', 100), status: 'delivered', deliveredAt: 120, attempts: 1 });
    assert.deepEqual(
      (await m.dueDeliveries(500)).map((d) => d.id),
      ['wh-2'],
    );
    assert.equal((await m.getDelivery('wh-1'))?.attempts, 1);
  });

  withStore('monitoring reference windows per version, and re-sent local alerts recognised', async (s) => {
    const m = s.monitoring;
    const ref = {
      model: 'distance',
      version: 2,
      scope: 'fleet' as const,
      from: 0,
      to: 60_000,
      setAt: 5,
      setBy: 'admin',
    };
    await m.setReferenceWindow(ref);
    await m.setReferenceWindow({ ...ref, to: 120_000 });
    assert.equal((await m.getReferenceWindow('distance', 2))?.to, 120_000);
    assert.equal(await m.getReferenceWindow('distance', 1), undefined);
    assert.equal(await m.markDeviceAlert('d1', 's1', 1), true);
    assert.equal(await m.markDeviceAlert('d1', 's1', 1), false);
    assert.equal(await m.markDeviceAlert('d1', 's1', 2), true);
    await m.forgetDeviceAlert('d1', 's1', 2);
    assert.equal(await m.markDeviceAlert('d1', 's1', 2), true);
  });
}
