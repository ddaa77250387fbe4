import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { binSpecFor } from '@edgeloop/protocol';
import { parseFleetConfig } from '../config.js';
import { openFleetStore } from '../store/open-fleet-store.js';
import { keptLogger, MemoryRollups, testMetrics } from './monitoring-test-kit.js';
import type { AlertEvent, IncidentEvent } from './monitoring-events.js';
import { Monitoring } from './monitoring-service.js';

const dir = mkdtempSync(join(tmpdir(), 'edgeloop-monitoring-service-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const spec = binSpecFor(null);
const T0 = 1_800_000_000_000;

test('rules from the config file (rule fields and actions side by side) are stored with source config', async () => {
  const config = parseFleetConfig({
    dataDir: dir,
    monitoring: {
      rules: [
        {
          name: 'arm-error',
          metric: 'output.mean',
          scope: 'rollout-arm',
          condition: { op: 'above', threshold: 10 },
          windowMs: 60_000,
          minSamples: 5,
          actions: [{ type: 'log' }],
        },
      ],
    },
  });
  assert.throws(
    () => parseFleetConfig({ dataDir: dir, monitoring: { rules: [{ name: 'x', metric: 'count', scope: 'version' }] } }),
    /fleet server settings are invalid: .*monitoring\.rules\.0/,
  );
  const store = await openFleetStore({ sqlitePath: join(dir, `fleet-${++n}.db`) });
  const rollups = new MemoryRollups(spec);
  let now = T0;
  const { log, lines } = keptLogger();
  const monitoring = new Monitoring({
    repo: store.monitoring,
    log,
    now: () => now,
    defaultRules: config.monitoring.defaultRules,
    configRules: config.monitoring.rules,
    engine: {
      rollups,
      metrics: testMetrics,
      versions: {
        versions: async () => [{ model: 'cam', version: 2, spec, trainingSummary: null, validationMae: null }],
      },
      // The candidate arm of a rollout of v2: two of the three devices.
      arms: { arms: async (_m, v) => (v === 2 ? [{ arm: 'ro-1/candidate', devices: ['a', 'b'] }] : []) },
    },
  });
  await monitoring.loadConfigRules();
  const stored = await store.monitoring.getRule('arm-error');
  assert.equal(stored?.source, 'config');
  assert.deepEqual(stored?.actions, [{ type: 'log' }]);

  const alerts: AlertEvent[] = [];
  const incidents: IncidentEvent[] = [];
  monitoring.events.on('monitoring.alert', (e) => alerts.push(e));
  monitoring.events.on('monitoring.incident', (e) => incidents.push(e));
  // a and b (the arm) average 12; c is outside the arm and would pull the mean down.
  for (let s = 0; s < 10; s++) {
    rollups.add('cam', 2, 'a', T0 + s * 1000, { features: {}, prediction: 14 });
    rollups.add('cam', 2, 'b', T0 + s * 1000, { features: {}, prediction: 10 });
    rollups.add('cam', 2, 'c', T0 + s * 1000, { features: {}, prediction: 0 });
  }
  now = T0 + 10_000;
  await monitoring.engine!.tick();
  assert.deepEqual(
    alerts.map((e) => [e.alert.scope, e.transition, e.alert.value]),
    [['arm:ro-1/candidate', 'firing', 12]],
  );
  assert.deepEqual(
    incidents.map((e) => e.change),
    ['opened'],
  );
  // The log action wrote the firing (asynchronously, after the event).
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(lines.some((l) => String(l.msg).startsWith('alert firing') && l.scope === 'arm:ro-1/candidate'));
  await monitoring.close();
  await store.close();
});
