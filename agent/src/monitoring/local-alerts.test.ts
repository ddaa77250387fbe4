import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Registry } from 'prom-client';
import { localAlertSchema } from '@edgeloop/protocol';
import { tempAgentDb } from '../outbox/test-support.js';
import { KeyValue } from '../store/agent-db.js';
import { alertIdOf, LocalAlerts } from './local-alerts.js';
import { MonitoringQueue } from './monitoring-queue.js';
import type { QueuedAlert } from './monitoring-streams.js';

const silent = pino({ level: 'silent' });
const firing = {
  model: 'distance',
  version: 3,
  rule: 'device-feature-drift',
  metric: 'drift.features',
  state: 'firing' as const,
  value: 1,
  threshold: 0.75,
  samples: 480,
  ts: 1_000,
  reason: 'drifted',
};

test('a change is queued once per transition, with offlineSince while offline; repeats are ignored', (t) => {
  const { db } = tempAgentDb(t);
  const queue = new MonitoringQueue<QueuedAlert>(db, 'local_alerts', 100);
  let offline: number | undefined = 500;
  const alerts = new LocalAlerts(queue, () => offline, silent, new Registry(), new KeyValue(db));
  alerts.change(firing);
  alerts.change(firing);
  offline = undefined;
  alerts.change({ ...firing, state: 'resolved', ts: 2_000 });
  const queued = queue.after(0, 10).map((q) => q.body);
  assert.deepEqual(
    queued.map((q) => [q.state, q.offlineSince]),
    [
      ['firing', 500],
      ['resolved', undefined],
    ],
  );
  assert.ok(localAlertSchema.safeParse({ v: 1, stream: 's', seq: 1, ...queued[0] }).success);
  assert.equal(queued[0]!.alertId, 'device-feature-drift.distance.v3');
});

test('after a restart, what was firing is resolved first (the fleet never sees it stuck)', (t) => {
  const store = tempAgentDb(t);
  const queue = new MonitoringQueue<QueuedAlert>(store.db, 'local_alerts', 100);
  new LocalAlerts(queue, () => undefined, silent, new Registry(), new KeyValue(store.db)).change(firing);
  const db = store.reopen();
  const again = new MonitoringQueue<QueuedAlert>(db, 'local_alerts', 100);
  const restarted = new LocalAlerts(again, () => undefined, silent, new Registry(), new KeyValue(db));
  restarted.resolveLeftovers(5_000);
  assert.deepEqual(restarted.firing(), []);
  const last = again.after(0, 10).at(-1)!.body;
  assert.deepEqual([last.state, last.ts, last.alertId], ['resolved', 5_000, alertIdOf(firing.rule, 'distance', 3)]);
  assert.match(last.reason, /restarted/);
});

test('alert ids are valid ids even for long or odd rule names', () => {
  assert.equal(alertIdOf('a:b', 'm', 1), 'a_b.m.v1');
  assert.match(alertIdOf('x'.repeat(100), 'm', 1), /^a-[0-9a-f]{32}$/);
});
