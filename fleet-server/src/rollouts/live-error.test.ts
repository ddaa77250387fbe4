/** Which slice of which device's rollups each arm of a rollout sums (the windows' arithmetic: rollups/live-error.test.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { armSlices, type ArmQuery } from './live-error.js';

const q: ArmQuery = {
  rolloutId: 'r1',
  model: 'm',
  candidate: 2,
  baselineVersion: 1,
  createdAt: 30,
  judgedSince: 0,
  lookbackMs: 200,
  shadow: false,
};
const devs = [
  { deviceId: 'a', state: 'active' as const, assignedAt: 1000, previousVersion: 1 },
  { deviceId: 'b', state: 'pending' as const, assignedAt: null, previousVersion: 1 },
  { deviceId: 'c', state: 'pending' as const, assignedAt: null, previousVersion: null },
];

test('serve rollout: candidate since assignment, baseline within the lookback before it and on devices still pending', () => {
  assert.deepEqual(armSlices(q, devs), {
    candidate: [{ deviceId: 'a', version: 2, role: 'serving', from: 1000 }],
    baseline: [
      { deviceId: 'a', version: 1, role: 'serving', from: 800, to: 1000 },
      { deviceId: 'b', version: 1, role: 'serving', from: 30 },
    ],
  });
  // A resume judges afresh from judgedSince.
  assert.equal(armSlices({ ...q, judgedSince: 5000 }, devs).candidate[0]!.from, 5000);
});

test('shadow rollout: the shadow records beside the serving version over the same slice', () => {
  assert.deepEqual(armSlices({ ...q, shadow: true }, devs), {
    candidate: [{ deviceId: 'a', version: 2, role: 'shadow', from: 1000 }],
    baseline: [{ deviceId: 'a', version: 1, role: 'serving', from: 1000 }],
  });
});
