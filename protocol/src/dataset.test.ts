import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { binIndex, histogramOf, valueEdges } from './baseline.js';
import { DEFAULT_SPLIT_RATIOS, datasetItemSchema, splitOf } from './dataset.js';
import { datasetContentId } from './dataset-hash.js';
import { resolveParams, type TrainerDescription } from './trainer-contract.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

test('splits follow the image hash and the ratios', () => {
  const counts = { train: 0, validation: 0, holdout: 0 };
  for (let i = 0; i < 10_000; i++) counts[splitOf(sha(String(i)))]++;
  // 80/10/10 within a few percent on 10,000 hashes.
  assert.ok(Math.abs(counts.train - 8000) < 300, JSON.stringify(counts));
  assert.ok(Math.abs(counts.holdout - 1000) < 200, JSON.stringify(counts));
  assert.equal(splitOf(sha('x')), splitOf(sha('x')));
  assert.equal(splitOf(sha('x'), { train: 100, validation: 0, holdout: 0 }), 'train');
  assert.equal(DEFAULT_SPLIT_RATIOS.train, 80);
});

test('a content id depends on hashes, labels and splits, not on order', () => {
  const a = { sha256: sha('a'), label: 100, split: 'train' as const };
  const b = { sha256: sha('b'), label: 120.5, split: 'holdout' as const };
  assert.equal(datasetContentId([a, b]), datasetContentId([b, a]));
  assert.match(datasetContentId([a]), /^ds-[0-9a-f]{24}$/);
  assert.notEqual(datasetContentId([a, b]), datasetContentId([a, { ...b, label: 121 }]));
  assert.notEqual(datasetContentId([a, b]), datasetContentId([a, { ...b, split: 'train' }]));
});

test('item paths must stay inside the folder', () => {
  assert.ok(datasetItemSchema.safeParse({ file: 'images/a.jpg', label: 1 }).success);
  for (const file of ['../x.jpg', '/etc/passwd', 'images/../../x', 'a\\b.jpg', 'images/./a.jpg']) {
    assert.equal(datasetItemSchema.safeParse({ file, label: 1 }).success, false, file);
  }
  assert.equal(datasetItemSchema.safeParse({ file: 'a.jpg', label: Number.NaN }).success, false);
});

test('histograms keep values outside their edges in the outer bins', () => {
  const edges = [0, 1, 2, 3];
  assert.equal(binIndex(edges, -5), 0);
  assert.equal(binIndex(edges, 0), 0);
  assert.equal(binIndex(edges, 1), 1);
  assert.equal(binIndex(edges, 2.999), 2);
  assert.equal(binIndex(edges, 3), 2);
  assert.equal(binIndex(edges, 99), 2);
  assert.equal(binIndex(edges, Number.NaN), 0);
  assert.deepEqual(histogramOf([-1, 0.5, 1.5, 2.5, 7], edges).counts, [2, 1, 2]);
  const v = valueEdges(0, 250);
  assert.equal(v.length, 33);
  assert.ok(v[0]! <= -125 && v.at(-1)! >= 375);
  assert.throws(() => valueEdges(2, 1), /min ≤ max/);
});

test('params are checked against the trainer description, defaults filled in', () => {
  const d: TrainerDescription = {
    name: 't',
    params: {
      lr: { type: 'number', default: 0.01, min: 0 },
      epochs: { type: 'integer', default: 10, min: 1 },
      opt: { type: 'string', values: ['adam', 'sgd'], default: 'adam' },
    },
  };
  assert.deepEqual(resolveParams(d, { seed: 3, epochs: 5 }), {
    ok: true,
    params: { seed: 3, epochs: 5, lr: 0.01, opt: 'adam' },
  });
  const bad = resolveParams(d, { lr: -1, epochs: 2.5, opt: 'rmsprop', lrate: 1, seed: 'x' });
  assert.equal(bad.ok, false);
  if (!bad.ok) {
    assert.equal(bad.errors.length, 5);
    assert.ok(bad.errors.some((e) => /unknown parameter "lrate".*takes: lr, epochs, opt/.test(e)));
  }
});
