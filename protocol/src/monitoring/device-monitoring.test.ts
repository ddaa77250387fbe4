import { test } from 'node:test';
import assert from 'node:assert/strict';
import { desiredStateSchema } from '../messages.js';
import { DEFAULT_DEVICE_RULES, deviceMonitoringSchema, PAGE_HINKLEY_DEFAULTS } from './device-monitoring.js';
import { parseMetricName } from './metric-catalogue.js';

test('the default device rules name catalogue metrics and run on devices', () => {
  for (const rule of DEFAULT_DEVICE_RULES) {
    assert.doesNotThrow(() => parseMetricName(rule.metric), rule.metric);
    assert.equal(rule.onDevice, true);
    assert.equal(rule.scope, 'device');
  }
});

test('the monitoring block: defaults, device-only rules, summary windows that divide a day', () => {
  const m = deviceMonitoringSchema.parse({});
  assert.equal(m.summaries, false);
  assert.equal(m.summaryWindowMs, 600_000);
  assert.equal(m.fallback, 'flag');
  assert.deepEqual(m.pageHinkley, { enabled: true, ...PAGE_HINKLEY_DEFAULTS });
  assert.equal(m.rules, undefined, 'absent: the defaults apply');
  const serverRule = {
    name: 'r',
    metric: 'count',
    scope: 'fleet',
    condition: { op: 'above', threshold: 1 },
    windowMs: 60_000,
  };
  assert.throws(() => deviceMonitoringSchema.parse({ rules: [serverRule] }), /device rules must have onDevice: true/);
  assert.throws(() => deviceMonitoringSchema.parse({ summaryWindowMs: 7 * 60_000 }), /must divide a day/);
  assert.throws(() => deviceMonitoringSchema.parse({ summaryWindowMs: 30_000 }));
  assert.throws(() => deviceMonitoringSchema.parse({ fallback: 'previous-version' }));
});

test('a desired state may carry the monitoring block; older ones without it stay valid', () => {
  const base = {
    v: 2,
    deviceId: 'd1',
    counter: 1,
    issuedAt: 0,
    models: [],
    keys: { payloadType: 'x', payload: 'AA==', signatures: [{ keyid: '0123456789abcdef', sig: 'AA==' }] },
  };
  const withBlock = desiredStateSchema.safeParse({ ...base, monitoring: { summaries: true } });
  const without = desiredStateSchema.safeParse(base);
  assert.equal(without.success, true, JSON.stringify(without.error?.issues));
  assert.equal(withBlock.success, true, JSON.stringify(withBlock.error?.issues));
  assert.equal(withBlock.data?.monitoring?.summaries, true);
});
