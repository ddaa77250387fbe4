import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INITIAL_RULE_STATE, ruleSchema, stepRule, type Rule, type RuleState } from './rules.js';

/** The origin's rule: the 5-minute mean of saturation outside [0.40, 0.60] for more than a minute. */
const origin: Rule = ruleSchema.parse({
  name: 'saturation-band',
  metric: 'feature.saturation.mean',
  scope: 'device',
  condition: { op: 'outside', low: 0.4, high: 0.6 },
  windowMs: 300_000,
  forMs: 60_000,
  minSamples: 10,
});

function run(rule: Rule, readings: Array<[ts: number, value: number | null, samples?: number]>) {
  let state: RuleState = INITIAL_RULE_STATE;
  const transitions: string[] = [];
  for (const [ts, value, samples = 100] of readings) {
    const step = stepRule(rule, state, { ts, value, samples });
    state = step.state;
    if (step.transition) transitions.push(`${step.transition}@${ts}`);
  }
  return { state, transitions };
}

test('the origin rule fires only after the mean stayed outside the band for a minute', () => {
  const { transitions, state } = run(origin, [
    [0, 0.5],
    [30_000, 0.65],
    [60_000, 0.66],
    [89_999, 0.67],
    [90_000, 0.68],
  ]);
  assert.deepEqual(transitions, ['pending@30000', 'firing@90000']);
  assert.equal(state.phase, 'firing');
  assert.equal(state.firedAt, 90_000);
});

test('a breach shorter than the for-duration is cancelled, never fired', () => {
  const { transitions, state } = run(origin, [
    [0, 0.35],
    [30_000, 0.36],
    [45_000, 0.5],
    [200_000, 0.5],
  ]);
  assert.deepEqual(transitions, ['pending@0', 'cancelled@45000']);
  assert.equal(state.phase, 'inactive');
});

test('hysteresis: a firing rule clears only below the lower bound', () => {
  const rule = ruleSchema.parse({
    name: 'psi',
    metric: 'output.psi',
    scope: 'version',
    condition: { op: 'above', threshold: 0.25, clear: 0.1 },
    windowMs: 60_000,
  });
  const { transitions } = run(rule, [
    [0, 0.3],
    [1, 0.2],
    [2, 0.26],
    [3, 0.11],
    [4, 0.09],
    [5, 0.2],
  ]);
  assert.deepEqual(transitions, ['firing@0', 'resolved@4']);
});

test('too few samples or no value give no verdict: the state holds', () => {
  const { transitions, state } = run(origin, [
    [0, 0.9, 5],
    [100_000, 0.9, 9],
    [200_000, null, 500],
  ]);
  assert.deepEqual(transitions, []);
  assert.equal(state.phase, 'inactive');
  const firing = run(origin, [
    [0, 0.9],
    [60_000, 0.9],
    [120_000, 0.5, 3],
  ]);
  assert.equal(firing.state.phase, 'firing', 'a quiet window does not resolve a firing rule');
});

test('rules are checked: bands, device-only rules, defaults', () => {
  const base = { name: 'r', metric: 'error.mae', scope: 'fleet', windowMs: 60_000 };
  assert.throws(
    () => ruleSchema.parse({ ...base, condition: { op: 'outside', low: 2, high: 1 } }),
    /low must be below high/,
  );
  assert.throws(
    () => ruleSchema.parse({ ...base, onDevice: true, condition: { op: 'above', threshold: 1 } }),
    /only a rule with scope \\"device\\"/,
  );
  const r = ruleSchema.parse({ ...base, condition: { op: 'above', threshold: 1 } });
  assert.equal(r.minSamples, 100);
  assert.equal(r.forMs, 0);
  assert.equal(r.aggregation, 'merged');
  assert.throws(() => ruleSchema.parse({ ...base, condition: { op: 'above', threshold: 1 }, extra: 1 }));
});

test('a rule names a metric the catalogue knows', () => {
  assert.throws(
    () =>
      ruleSchema.parse({
        name: 'r',
        metric: 'feature.saturation.median',
        scope: 'fleet',
        windowMs: 60_000,
        condition: { op: 'above', threshold: 1 },
      }),
    /metric/,
  );
});
