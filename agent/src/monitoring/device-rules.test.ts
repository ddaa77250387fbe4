import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Registry } from 'prom-client';
import { DEFAULT_DEVICE_RULES, MANIFEST_SCHEMA, type Manifest } from '@edgeloop/protocol';
import { openAgentDb } from '../store/agent-db.js';
import { catalogueMetric } from './catalogue-metric.js';
import { DeviceRules } from './device-rules.js';
import { LocalAlerts } from './local-alerts.js';
import { LocalWindows } from './local-windows.js';
import { MonitoringQueue } from './monitoring-queue.js';
import { baselineOf, camera, FLOORS } from './test-support.js';
import { versionSpecOf } from './version-spec.js';

const manifest = {
  schema: MANIFEST_SCHEMA,
  name: 'd',
  version: 1,
  artifact: { sha256: 'a'.repeat(64), size: 1, mediaType: 'application/onnx' },
  created: '1970-01-01T00:00:00Z',
  expires: '2300-01-01T00:00:00Z',
  targets: { arch: ['x64'], hardware: [] },
  inputs: [{ name: 'x', dtype: 'float32', shape: [1] }],
  outputs: [{ name: 'y', dtype: 'float32', shape: [1] }],
  preprocessing: { kind: 'none' },
  postprocessing: { kind: 'regression', output: 'y' },
  baseline: baselineOf(FLOORS.beige),
} as Manifest;
const T0 = 1_800_000_000_000;

/** 4 frames/s for `minutes`, the default rules judged every 5 s; the first firing's frame index. */
function run(seed: number, minutes: number, onset = Infinity): number | undefined {
  const spec = versionSpecOf(manifest);
  const windows = new LocalWindows(() => spec);
  const db = openAgentDb(':memory:');
  const alerts = new LocalAlerts(
    new MonitoringQueue(db, 'local_alerts', 100),
    () => undefined,
    pino({ level: 'silent' }),
    new Registry(),
  );
  const rules = new DeviceRules(windows, catalogueMetric, alerts, (_rule, err) => assert.fail(err));
  rules.setRules(DEFAULT_DEVICE_RULES);
  const cam = camera(seed);
  try {
    for (let i = 0; i < minutes * 240; i++) {
      const features = cam(i >= onset ? FLOORS.green : FLOORS.beige);
      windows.fold({ ts: T0 + i * 250, model: 'd', version: 1, features, prediction: 100 });
      if (i % 20 === 19) {
        rules.evaluate();
        if (alerts.firing().length > 0) return i;
      }
    }
    return undefined;
  } finally {
    db.close();
  }
}

test('the default device rules stay quiet through 30 minutes of stable, correlated frames', () => {
  for (const seed of [1, 2, 3]) assert.equal(run(seed, 30), undefined, `seed ${seed}`);
});

// The rule is the per-feature confirmation; the device's fast alarm is Page-Hinkley (within
// seconds, page-hinkley.test.ts), which is what the 60 s on-device target rests on.
test('the default feature-drift rule confirms a covariate shift (beige → green floor) within 90 s', () => {
  const onset = 10 * 240;
  const fired = run(4, 15, onset);
  assert.ok(fired !== undefined, 'fired');
  assert.ok((fired - onset) / 4 <= 90, `${(fired - onset) / 4} s after the onset`);
});
