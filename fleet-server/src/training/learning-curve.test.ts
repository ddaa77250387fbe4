import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_CURVE_POINTS, type RunProgress } from '@edgeloop/protocol/rest';
import { extendCurve } from './job-executor.js';

const train = (epochs: number) => {
  let curve: RunProgress['curve'];
  for (let epoch = 1; epoch <= epochs; epoch++)
    curve = extendCurve(curve, { type: 'epoch', epoch, epochs, loss: 1 / epoch, valMae: 10 / epoch });
  return curve!;
};

test('a learning curve keeps every epoch of a short run', () => {
  const curve = train(40);
  assert.deepEqual(
    curve.map((c) => c.epoch),
    Array.from({ length: 40 }, (_, i) => i + 1),
  );
  assert.deepEqual(curve[3], { epoch: 4, loss: 0.25, valMae: 2.5 });
});

test('a long run keeps every n-th epoch and its last, evenly and at most MAX_CURVE_POINTS + 1', () => {
  const curve = train(1234);
  const epochs = curve.map((c) => c.epoch);
  assert.ok(curve.length <= MAX_CURVE_POINTS + 1, `${curve.length} points`);
  assert.deepEqual(epochs.slice(0, 3), [3, 6, 9], 'every 3rd epoch (1234 / 500 → 3)');
  assert.equal(epochs.at(-1), 1234, 'and the last');
  assert.ok(epochs.every((e, i) => i === 0 || e > epochs[i - 1]!));
});
