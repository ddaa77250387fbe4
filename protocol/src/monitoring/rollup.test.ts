import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FEATURE_EDGES, valueEdges, type TrainingSummary } from '../baseline.js';
import {
  binSpecFor,
  binSpecId,
  cloneRollup,
  emptyRollup,
  foldLateReference,
  foldRecord,
  mergeRollup,
  rollupFromWire,
  rollupSchema,
  rollupToWire,
  UNIVERSAL_EDGES,
  type BinSpec,
  type Rollup,
  type RollupInput,
  type ValueStats,
} from './rollup.js';

/** mulberry32, so the records are the same on every run. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Records with image features, an unknown feature, gaps in prediction/reference and a few non-finite values. */
function records(count: number, seed: number, classes?: number): RollupInput[] {
  const rand = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const value = classes ? Math.floor(rand() * classes) : rand() * 300 - 20;
    return {
      features: {
        brightness: rand(),
        sharpness: rand() * 20,
        ...(i % 5 === 0 ? { voltage: (rand() - 0.5) * 1e4 } : {}),
        ...(i % 97 === 0 ? { saturation: NaN } : {}),
      },
      prediction: i % 11 === 0 ? null : value,
      reference: i % 3 === 0 ? undefined : classes ? Math.floor(rand() * classes) : value + (rand() - 0.5) * 30,
    };
  });
}

function foldAll(spec: BinSpec, recs: RollupInput[], classifier = false): Rollup {
  const r = emptyRollup(classifier);
  for (const rec of recs) foldRecord(r, spec, rec);
  return r;
}

/** Counts and bins exactly, sums to 1e-9 relative (their order of addition differs). */
function assertSameStats(actual: ValueStats, expected: ValueStats, what: string): void {
  assert.equal(actual.n, expected.n, `${what}.n`);
  assert.deepEqual(actual.bins, expected.bins, `${what}.bins`);
  assert.equal(actual.min, expected.min, `${what}.min`);
  assert.equal(actual.max, expected.max, `${what}.max`);
  for (const k of ['sum', 'sumSq'] as const) {
    const tolerance = 1e-9 * Math.max(1, Math.abs(expected[k]));
    assert.ok(Math.abs(actual[k] - expected[k]) <= tolerance, `${what}.${k}: ${actual[k]} vs ${expected[k]}`);
  }
}

function assertSameRollup(actual: Rollup, expected: Rollup): void {
  assert.equal(actual.count, expected.count);
  assert.deepEqual(Object.keys(actual.features).sort(), Object.keys(expected.features).sort());
  for (const name in expected.features) assertSameStats(actual.features[name]!, expected.features[name]!, name);
  assertSameStats(actual.output, expected.output, 'output');
  assertSameStats(actual.reference, expected.reference, 'reference');
  assertSameStats(actual.error, expected.error, 'error');
  assert.ok(Math.abs(actual.error.absSum - expected.error.absSum) <= 1e-9 * expected.error.absSum);
  assert.deepEqual(actual.confusion, expected.confusion);
}

const summary: TrainingSummary = {
  count: 1,
  features: {},
  prediction: { edges: valueEdges(0, 250), counts: new Array<number>(32).fill(0) },
  reference: { edges: valueEdges(0, 250), counts: new Array<number>(32).fill(0) },
};

test('folding splits and merging them equals folding every record at once', () => {
  const spec = binSpecFor(summary);
  const recs = records(3_000, 7);
  const whole = foldAll(spec, recs);
  // Uneven splits, merged in a different order than folded.
  const cuts = [0, 1, 400, 401, 1_700, 3_000];
  const parts = cuts.slice(1).map((end, i) => foldAll(spec, recs.slice(cuts[i], end)));
  const merged = emptyRollup();
  for (const p of parts.reverse()) mergeRollup(merged, p);
  assertSameRollup(merged, whole);
  assert.equal(whole.count, 3_000);
  assert.equal(whole.features.saturation, undefined, 'non-finite values are not counted');
  assert.equal(whole.output.n, 3_000 - Math.ceil(3_000 / 11));
});

test('a classifier’s confusion counts merge exactly too', () => {
  const spec = binSpecFor(null, { classes: 4 });
  const recs = records(1_000, 8, 4);
  const parts = [foldAll(spec, recs.slice(0, 333), true), foldAll(spec, recs.slice(333), true)];
  const whole = foldAll(spec, recs, true);
  assertSameRollup(mergeRollup(cloneRollup(parts[0]!), parts[1]!), whole);
  const pairs = Object.values(whole.confusion!).reduce((a, b) => a + b, 0);
  assert.equal(pairs, whole.error.n);
});

test('a late reference value adds to the reference and error parts as if it had come with its record', () => {
  const spec = binSpecFor(summary);
  const onTime = emptyRollup();
  foldRecord(onTime, spec, { features: { brightness: 0.3 }, prediction: 120, reference: 100 });
  const late = emptyRollup();
  foldRecord(late, spec, { features: { brightness: 0.3 }, prediction: 120 });
  foldLateReference(late, spec, 120, 100);
  assertSameRollup(late, onTime);
});

test('rollups survive the wire format, empty stats included', () => {
  const spec = binSpecFor(summary);
  const r = foldAll(spec, records(500, 9));
  r.features.unseen = emptyRollup().output;
  const wire = JSON.parse(JSON.stringify(rollupToWire(r))) as unknown;
  const back = rollupFromWire(rollupSchema.parse(wire));
  assert.deepEqual(back, r);
  assert.equal(back.features.unseen!.min, Infinity);
  assert.deepEqual(
    rollupFromWire(rollupSchema.parse(JSON.parse(JSON.stringify(rollupToWire(emptyRollup(true)))))),
    emptyRollup(true),
  );
  assert.equal(rollupSchema.safeParse({ ...rollupToWire(r), extra: 1 }).success, false);
  assert.equal(rollupSchema.safeParse({ ...rollupToWire(r), count: -1 }).success, false);
});

test('binSpecId is stable for equal specs and differs when any edge does', () => {
  const a = binSpecFor(summary);
  const b = binSpecFor(structuredClone(summary));
  assert.equal(binSpecId(a), binSpecId(b));
  assert.match(binSpecId(a), /^bs-[0-9a-f]{16}$/);
  // Key order of the features does not matter, their edges do.
  const reordered: BinSpec = { ...a, features: Object.fromEntries(Object.entries(a.features).reverse()) };
  assert.equal(binSpecId(reordered), binSpecId(a));
  const otherEdges = binSpecFor({
    ...summary,
    prediction: { edges: valueEdges(0, 251), counts: summary.prediction!.counts },
  });
  assert.notEqual(binSpecId(otherEdges), binSpecId(a));
  assert.notEqual(binSpecId(binSpecFor(null)), binSpecId(a));
  assert.notEqual(binSpecId(binSpecFor(null, { classes: 3 })), binSpecId(binSpecFor(null, { classes: 4 })));
});

test('edges: UNIVERSAL_EDGES strictly increasing and symmetric; specs use baseline, image and universal edges', () => {
  assert.ok(UNIVERSAL_EDGES.every((e, i) => i === 0 || e > UNIVERSAL_EDGES[i - 1]!));
  assert.equal(UNIVERSAL_EDGES[0], -1e6);
  assert.equal(UNIVERSAL_EDGES.at(-1), 1e6);
  assert.ok(UNIVERSAL_EDGES.includes(0));
  const spec = binSpecFor(summary);
  assert.deepEqual(spec.output, summary.prediction!.edges);
  assert.equal(spec.features.brightness, FEATURE_EDGES.brightness);
  assert.equal(spec.error.length, 41);
  assert.equal(binSpecFor(null).output, UNIVERSAL_EDGES);
});
