import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncidentView, RolloutSummary, RuleView } from '@edgeloop/protocol/rest';
import { driftMarks, ruleThresholds, spanRange, stepFor, versionSeries } from './drift-charts.js';

const incident = (over: Partial<IncidentView>): IncidentView =>
  ({
    id: 'in-1',
    rule: 'r',
    metric: 'output.psi',
    severity: 'warning',
    model: 'm',
    version: 2,
    state: 'open',
    openedAt: 1_000,
    updatedAt: 1_000,
    quietSince: null,
    resolvedAt: null,
    members: [],
    devices: [],
    resolvedBy: null,
    ...over,
  }) as IncidentView;

const rollout = (over: Partial<RolloutSummary>): RolloutSummary =>
  ({
    id: 'ro',
    model: 'm',
    version: 3,
    role: 'serve',
    state: 'running',
    createdAt: 2_000,
    finishedAt: null,
    ...over,
  }) as RolloutSummary;

test('marks: onsets and resolutions of incidents, rollouts and rollbacks inside the range, in time order', () => {
  const marks = driftMarks(
    [incident({ openedAt: 1_000, resolvedAt: 5_000 }), incident({ openedAt: 50 })],
    [
      rollout({ createdAt: 2_000 }),
      rollout({ version: 4, createdAt: 3_000, state: 'rolled-back', finishedAt: 4_000 }),
      rollout({ version: 5, createdAt: 3_500, role: 'shadow' }),
    ],
    100,
    10_000,
  );
  assert.deepEqual(
    marks.map((m) => [m.kind, m.at]),
    [
      ['onset', 1_000],
      ['deploy', 2_000],
      ['deploy', 3_000],
      ['rollback', 4_000],
      ['resolve', 5_000],
    ],
  );
});

test('thresholds: enabled rules on the metric for the model (or every model), band edges both', () => {
  const rule = (name: string, over: Record<string, unknown>) =>
    ({
      rule: { name, metric: 'output.psi', enabled: true, condition: { op: 'above', threshold: 0.25 }, ...over },
    }) as unknown as RuleView;
  const lines = ruleThresholds(
    [
      rule('a', {}),
      rule('b', { model: 'other' }),
      rule('c', { enabled: false }),
      rule('d', { metric: 'error.mae' }),
      rule('e', { model: 'm', condition: { op: 'outside', low: 1, high: 2 } }),
    ],
    'output.psi',
    'm',
  );
  assert.deepEqual(
    lines.map((l) => l.value),
    [0.25, 1, 2],
  );
});

test('series: versions share one axis, the range ends are on it, steps are window multiples', () => {
  const data = versionSeries([
    {
      model: 'm',
      version: 1,
      role: 'serving',
      scope: 'fleet',
      metric: 'x',
      from: 0,
      to: 0,
      step: 60_000,
      points: [{ t: 60_000, value: 1, samples: 1 }],
    },
    {
      model: 'm',
      version: 2,
      role: 'serving',
      scope: 'fleet',
      metric: 'x',
      from: 0,
      to: 0,
      step: 60_000,
      points: [{ t: 120_000, value: 2, samples: 1 }],
    },
  ]);
  assert.deepEqual(data.x, [60_000, 120_000]);
  assert.deepEqual(
    data.series.map((s) => s.values),
    [
      [1, null],
      [null, 2],
    ],
  );
  const spanned = spanRange(data, 0, 300_000);
  assert.deepEqual(spanned.x, [0, 60_000, 120_000, 300_000]);
  assert.deepEqual(spanned.series[1]!.values, [null, null, 2, null]);
  assert.equal(stepFor(0, 3_600_000, 'fleet'), 60_000);
  assert.equal(stepFor(0, 7 * 86_400_000, 'fleet') % 60_000, 0);
  assert.equal(stepFor(0, 3_600_000, 'device:a'), 600_000);
});
