import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderTelemetryTable } from './format.js';

test('the telemetry table shows the join: reference value and request id, and marks shadow records', () => {
  const base = {
    id: 1,
    historical: false,
    deviceId: 'pi-1',
    stream: 's',
    seq: 1,
    ts: Date.UTC(2026, 11, 5, 12),
    model: 'distance',
    version: 2,
    output: [151],
    prediction: 151.25,
    latencyMs: 2.5,
    features: {},
    receivedAt: 0,
  };
  const table = renderTelemetryTable([
    { ...base, requestId: 'frame-17', reference: 149, shadow: false },
    { ...base, seq: 2, requestId: null, reference: null, shadow: true },
  ]);
  const [header, joined, shadow] = table.split('\n');
  assert.match(header!, /^ID\s+TIME\s+DEVICE.*PREDICTION\s+REFERENCE\s+REQUEST ID/);
  assert.match(joined!, /151\.25\s+149\s+frame-17/);
  assert.match(shadow!, /2 \(shadow\)/);
});
