import { test } from 'node:test';
import assert from 'node:assert/strict';
import { interpret } from './postprocess.js';

const out = (data: number[]) => ({ y: { shape: [1, data.length], data } });

test('regression: the first value with its unit, as the agent records it', () => {
  assert.deepEqual(interpret({ kind: 'regression', output: 'y', unit: 'mm' }, out([123.5, 9])), {
    kind: 'regression',
    prediction: 123.5,
    unit: 'mm',
  });
  assert.deepEqual(interpret({ kind: 'regression', output: 'missing' }, out([1])), {
    kind: 'regression',
    prediction: null,
  });
});

test('argmax: best index, its label and score, and every class ranked (ties keep the first, as the agent)', () => {
  const r = interpret({ kind: 'argmax', output: 'y', labels: ['cat', 'dog', 'fox'] }, out([0.2, 0.7, 0.7]));
  assert.equal(r.prediction, 1);
  assert.equal(r.label, 'dog');
  assert.equal(r.confidence, 0.7);
  assert.deepEqual(
    r.ranking?.map((c) => [c.index, c.label]),
    [
      [1, 'dog'],
      [2, 'fox'],
      [0, 'cat'],
    ],
  );
  // More scores than labels: the unlabelled ones are named by index on the page.
  const unlabelled = interpret({ kind: 'argmax', output: 'y', labels: ['a'] }, out([0, 5]));
  assert.equal(unlabelled.prediction, 1);
  assert.equal(unlabelled.label, undefined);
  assert.deepEqual(interpret({ kind: 'argmax', output: 'y' }, out([])), { kind: 'argmax', prediction: null });
});

test('raw: no prediction', () => {
  assert.deepEqual(interpret({ kind: 'raw' }, out([1, 2])), { kind: 'raw', prediction: null });
});
