import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Manifest } from '@edgeloop/protocol';
import type { TensorData } from '../runtime/model-runner.js';
import { batchGroups, hasDynamicBatch, stackFeeds, unstackOutputs } from './batch.js';

const model = (shape: Array<number | string>) =>
  ({ inputs: [{ name: 'x', dtype: 'float32', shape }] }) as unknown as Manifest;
const t = (dims: number[], fill = 0): TensorData => ({
  dtype: 'float32',
  dims,
  data: new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(fill),
});

test('only a dynamic first dimension (-1 or a symbolic name) is treated as a batch dimension', () => {
  assert.equal(hasDynamicBatch(model([-1, 3])), true);
  assert.equal(hasDynamicBatch(model(['batch', 3])), true);
  assert.equal(hasDynamicBatch(model([1, 3])), false);
  assert.equal(hasDynamicBatch(model([])), false);
});

test('items group by shape; multi-sample items and fixed-batch models run alone', () => {
  const items = [{ x: t([1, 3]) }, { x: t([1, 4]) }, { x: t([1, 3]) }, { x: t([2, 3]) }, { x: t([1, 4]) }];
  assert.deepEqual(batchGroups(model([-1, -1]), items), [[0, 2], [1, 4], [3]]);
  assert.deepEqual(batchGroups(model([1, 3]), [{ x: t([1, 3]) }, { x: t([1, 3]) }]), [[0], [1]]);
});

test('stacking and unstacking round-trip every sample', () => {
  const stacked = stackFeeds([{ x: t([1, 2], 1) }, { x: t([1, 2], 2) }, { x: t([1, 2], 3) }]);
  assert.deepEqual(stacked.x!.dims, [3, 2]);
  assert.deepEqual([...stacked.x!.data], [1, 1, 2, 2, 3, 3]);
  const split = unstackOutputs({ y: stacked.x! }, 3)!;
  assert.deepEqual(
    split.map((s) => [s.y!.dims, [...s.y!.data]]),
    [
      [
        [1, 2],
        [1, 1],
      ],
      [
        [1, 2],
        [2, 2],
      ],
      [
        [1, 2],
        [3, 3],
      ],
    ],
  );
});

test('outputs without the batch as first dimension cannot be split (the caller runs items one by one)', () => {
  assert.equal(unstackOutputs({ y: t([1, 6]) }, 3), undefined);
  assert.equal(unstackOutputs({ y: t([3, 2]), pooled: t([4]) }, 3), undefined);
});
