/** The ingest's dense fold gives exactly what protocol's foldRecord gives; rollup bodies decode to what was encoded. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binSpecFor, emptyRollup, foldRecord } from '@edgeloop/protocol';
import { DenseRollup } from './dense-fold.js';
import { decodeRollup, encodeRollup } from './rollup-repository.js';

const records = Array.from({ length: 500 }, (_, i) => ({
  features: { a: Math.sin(i) * 300, b: i % 7 === 0 ? Number.NaN : i / 3, ...(i % 5 ? { c: -i } : {}) },
  prediction: i % 11 === 0 ? null : (i * 7) % 3,
  ...(i % 2 ? { reference: (i * 5) % 3 } : {}),
}));

for (const [name, spec] of [
  ['regression on universal edges', binSpecFor(null)],
  ['classifier', binSpecFor(null, { classes: 3 })],
] as const)
  test(`dense fold equals foldRecord: ${name}`, () => {
    const sparse = emptyRollup(spec.classes !== undefined);
    const dense = new DenseRollup(spec);
    for (const r of records) {
      foldRecord(sparse, spec, r);
      dense.add(r);
    }
    assert.deepEqual(dense.toRollup(), sparse);
  });

test('a rollup body decodes to exactly the rollup encoded, empty parts and confusion included', () => {
  for (const spec of [binSpecFor(null), binSpecFor(null, { classes: 3 })]) {
    const r = emptyRollup(spec.classes !== undefined);
    for (const rec of records) foldRecord(r, spec, rec);
    assert.deepEqual(decodeRollup(encodeRollup(r)), r);
    assert.deepEqual(decodeRollup(encodeRollup(emptyRollup())), emptyRollup());
  }
});
