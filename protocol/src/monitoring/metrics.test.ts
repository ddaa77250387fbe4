import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { emptyRollup, foldRecord, binSpecFor, type BinSpec } from './rollup.js';
import {
  binnedStd,
  chiSquare,
  classificationSummary,
  errorHistogram,
  errorSummary,
  jsDistance,
  ks,
  psi,
  valueMean,
  valueStd,
  wasserstein,
  wassersteinNormalized,
} from './metrics.js';
import { MIN_DRIFT_SAMPLES } from './drift-defaults.js';
import { chiSquareSurvival, gammaQ, kolmogorovSurvival, lnGamma } from './special-functions.js';

/** Runs `script` with the JSON of `input` on stdin and parses what it prints. */
function python<T>(script: string, input: unknown): T {
  return JSON.parse(execFileSync('python3', ['-c', script], { input: JSON.stringify(input), encoding: 'utf8' })) as T;
}

/** mulberry32: the random histograms are the same on every run. */
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

interface Case {
  ref: number[];
  live: number[];
  edges: number[];
}

/** `count` values drawn from the proportions of `counts`. */
function resample(counts: number[], count: number, rand: () => number): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  const out = counts.map(() => 0);
  for (let k = 0; k < count; k++) {
    let u = rand() * total;
    let i = 0;
    while (u >= counts[i]! && i < counts.length - 1) u -= counts[i++]!;
    out[i]!++;
  }
  return out;
}

/** Pairs of histograms from the same or shifted bell shapes, with some empty bins, on uneven edges. */
function randomCases(count: number): Case[] {
  const rand = seededRandom(20261206);
  const cases: Case[] = [];
  for (let c = 0; c < count; c++) {
    const bins = 5 + Math.floor(rand() * 36);
    const edges = [rand() * 10 - 5];
    for (let i = 0; i < bins; i++) edges.push(edges[i]! + 0.1 + rand() * 2);
    const shape = (centre: number, total: number) =>
      Array.from({ length: bins }, (_, i) =>
        Math.round(total * Math.exp(-(((i - centre) / (bins / 5)) ** 2)) * rand()),
      );
    const centre = rand() * bins;
    const shift = c % 3 === 0 ? 0 : (rand() - 0.5) * bins * 0.3;
    const ref = shape(centre, 20 + rand() * 1_500);
    // Undrifted cases draw the live values from the reference's own proportions, so their
    // p-values spread over (0, 1) rather than all sitting near 0.
    const live = shift === 0 ? resample(ref, 20 + rand() * 1_500, rand) : shape(centre + shift, 20 + rand() * 1_500);
    ref[0]! += 1;
    live[bins - 1]! += 1;
    cases.push({ ref, live, edges });
  }
  return cases;
}

const SCIPY_METRICS = `
import sys, json, numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.stats import wasserstein_distance, ks_2samp, chi2_contingency, kstwobign
out = []
for c in json.load(sys.stdin):
    ref, live, edges = np.array(c['ref'], float), np.array(c['live'], float), np.array(c['edges'])
    centres = (edges[:-1] + edges[1:]) / 2
    p, q = ref / ref.sum(), live / live.sum()
    # Evidently's PSI: a zero proportion counts as 0.0001.
    pe, qe = np.where(p == 0, 1e-4, p), np.where(q == 0, 1e-4, q)
    mean = np.average(centres, weights=ref)
    std = np.sqrt(np.average((centres - mean) ** 2, weights=ref))
    w = wasserstein_distance(centres, centres, ref, live)
    k = ks_2samp(np.repeat(centres, c['ref']), np.repeat(centres, c['live']), method='asymp')
    n, m = ref.sum(), live.sum()
    e = np.sqrt(n * m / (n + m))
    keep = (ref + live) > 0
    chi = chi2_contingency(np.array([ref[keep], live[keep]]), correction=False)
    out.append(dict(psi=float(np.sum((qe - pe) * np.log(qe / pe))), js=float(jensenshannon(ref, live, base=2)),
        w=float(w), std=float(std), ks=float(k.statistic), ksScipyP=float(k.pvalue),
        ksAsympP=float(kstwobign.sf((e + 0.12 + 0.11 / e) * k.statistic)),
        chi=float(chi.statistic), chiP=float(chi.pvalue), dof=int(chi.dof)))
print(json.dumps(out))
`;

interface ScipyMetrics {
  psi: number;
  js: number;
  w: number;
  std: number;
  ks: number;
  ksScipyP: number;
  ksAsympP: number;
  chi: number;
  chiP: number;
  dof: number;
}

function close(actual: number | null | undefined, expected: number, rel: number, what: string, abs = 0): void {
  assert.ok(actual !== null && actual !== undefined, `${what}: got null`);
  const tolerance = rel * Math.abs(expected) + abs;
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs scipy ${expected}`);
}

test('every histogram comparison equals scipy on 60 seeded random histogram pairs', () => {
  const cases = randomCases(60);
  const expected = python<ScipyMetrics[]>(SCIPY_METRICS, cases);
  let comparedWithKs2samp = 0;
  cases.forEach((c, i) => {
    const s = expected[i]!;
    const label = `case ${i}`;
    close(psi(c.ref, c.live), s.psi, 1e-9, `${label} psi`);
    close(jsDistance(c.ref, c.live), s.js, 1e-9, `${label} js`);
    close(wasserstein(c.ref, c.live, c.edges), s.w, 1e-9, `${label} wasserstein`);
    close(binnedStd(c.ref, c.edges), s.std, 1e-9, `${label} std`);
    close(wassersteinNormalized(c.ref, c.live, c.edges), s.w / s.std, 1e-9, `${label} wasserstein normalised`);
    const k = ks(c.ref, c.live)!;
    close(k.statistic, s.ks, 1e-12, `${label} ks statistic`);
    close(k.pValue, s.ksAsympP, 1e-9, `${label} ks p (Kolmogorov distribution)`);
    // scipy's asymp uses the exact one-sample distribution at round(nm/(n+m)); the corrected
    // asymptotic form stays within a few per cent of it where p-values decide anything (at
    // least MIN_DRIFT_SAMPLES a side), and within 20 % on the smallest samples.
    if (s.ksScipyP > 1e-3) {
      const enough = Math.min(k.n, k.m) >= MIN_DRIFT_SAMPLES;
      if (enough) comparedWithKs2samp++;
      close(k.pValue, s.ksScipyP, enough ? 0.05 : 0.2, `${label} ks p vs ks_2samp`);
    }
    const chi = chiSquare(c.ref, c.live)!;
    close(chi.statistic, s.chi, 1e-9, `${label} chi-square statistic`);
    assert.equal(chi.dof, s.dof, `${label} dof`);
    close(chi.pValue, s.chiP, 1e-8, `${label} chi-square p`);
  });
  assert.ok(comparedWithKs2samp >= 10, `only ${comparedWithKs2samp} cases compared with ks_2samp`);
});

test('identical histograms: every distance 0, every p-value 1', () => {
  const h = [3, 0, 10, 25, 7, 1];
  const edges = [0, 1, 2, 3, 4, 5, 6];
  assert.equal(psi(h, h), 0);
  assert.equal(jsDistance(h, h), 0);
  assert.equal(wassersteinNormalized(h, h, edges), 0);
  assert.deepEqual(ks(h, h), { statistic: 0, pValue: 1, n: 46, m: 46 });
  assert.deepEqual(chiSquare(h, h), { statistic: 0, dof: 4, pValue: 1 });
  // Proportions matter, not totals.
  assert.ok(
    jsDistance(
      h,
      h.map((c) => c * 7),
    )! < 1e-8,
  );
});

test('histograms with no bin in common: JS distance 1, KS statistic 1', () => {
  assert.equal(jsDistance([5, 5, 0, 0], [0, 0, 1, 9]), 1);
  assert.equal(ks([5, 5, 0, 0], [0, 0, 1, 9])!.statistic, 1);
  // Mass moved by exactly two bin widths (1 each): W1 = 2, in reference stds of 0.5 → 4.
  assert.equal(wasserstein([1, 1, 0, 0], [0, 0, 1, 1], [0, 1, 2, 3, 4]), 2);
  assert.equal(wassersteinNormalized([1, 1, 0, 0], [0, 0, 1, 1], [0, 1, 2, 3, 4]), 4);
});

test('PSI of known proportions, and an empty bin counts as 0.0001', () => {
  // 50/50 → 25/75: (0.25−0.5)·ln(0.5) + (0.75−0.5)·ln(1.5)
  const expected = -0.25 * Math.log(0.5) + 0.25 * Math.log(1.5);
  assert.ok(Math.abs(psi([50, 50], [25, 75])! - expected) < 1e-15);
  const withEmpty = (0.5 - 1e-4) * Math.log(0.5 / 1e-4) + (0.5 - 1) * Math.log(0.5);
  assert.ok(Math.abs(psi([0, 10], [5, 5])! - withEmpty) < 1e-12);
});

test('an empty side gives null; bins that do not line up throw an error that names both sizes', () => {
  assert.equal(psi([0, 0], [1, 2]), null);
  assert.equal(jsDistance([1, 2], [0, 0]), null);
  assert.equal(ks([0, 0], [0, 0]), null);
  assert.equal(binnedStd([0, 0], [0, 1, 2]), null);
  assert.throws(() => psi([1, 2, 3], [1, 2]), /reference has 3 bins and live 2/);
  assert.throws(() => wasserstein([1, 2], [1, 2], [0, 1]), /2 bins need 3 edges, got 2/);
  assert.throws(() => jsDistance([1, -2], [1, 2]), /reference bin 1 has count -2/);
});

test('a reference in one bin is normalised by that bin’s uniform spread, not divided by 0', () => {
  const w = wassersteinNormalized([0, 10, 0], [0, 0, 10], [0, 2, 4, 6])!;
  assert.ok(Math.abs(w - 2 / (2 / Math.sqrt(12))) < 1e-12);
});

test('chi-square with one occupied bin has no degrees of freedom and p = 1', () => {
  assert.deepEqual(chiSquare([0, 4, 0], [0, 9, 0]), { statistic: 0, dof: 0, pValue: 1 });
});

test('special functions equal scipy, including p-values far in the tail', () => {
  const chiPoints: [number, number][] = [
    [0.5, 1],
    [3.84, 1],
    [10, 3],
    [80, 10],
    [300, 40],
    [1500, 255],
    [200, 255],
    [1e-3, 2],
    [700, 5],
  ];
  const lambdas = [0.05, 0.3, 0.6, 1, 1.17, 1.19, 1.36, 2, 3.5, 6];
  const gammas = [0.1, 0.5, 1, 2.5, 10, 127.5, 1000];
  const s = python<{ chi: number[]; ks: number[]; lg: number[]; q: number[] }>(
    `
import sys, json
from scipy.stats import chi2, kstwobign
from scipy.special import gammaln, gammaincc
d = json.load(sys.stdin)
print(json.dumps(dict(chi=[float(chi2.sf(x, k)) for x, k in d['chi']], ks=[float(kstwobign.sf(l)) for l in d['ks']],
  lg=[float(gammaln(x)) for x in d['lg']], q=[float(gammaincc(a, a * 1.1)) for a in d['lg']])))
`,
    { chi: chiPoints, ks: lambdas, lg: gammas },
  );
  chiPoints.forEach(([x, k], i) => close(chiSquareSurvival(x, k), s.chi[i]!, 1e-10, `chi2.sf(${x}, ${k})`));
  lambdas.forEach((l, i) => close(kolmogorovSurvival(l), s.ks[i]!, 1e-10, `kstwobign.sf(${l})`));
  gammas.forEach((x, i) => close(lnGamma(x), s.lg[i]!, 1e-13, `gammaln(${x})`, 1e-14));
  gammas.forEach((a, i) => close(gammaQ(a, a * 1.1), s.q[i]!, 1e-10, `gammaincc(${a}, ${a * 1.1})`));
});

function regressionRollup(pairs: [number, number][]) {
  const spec = binSpecFor(null);
  const r = emptyRollup();
  for (const [prediction, reference] of pairs) foldRecord(r, spec, { features: {}, prediction, reference });
  return { r, spec };
}

test('error summary: MAE, RMSE and bias from the rollup equal the direct computation', () => {
  const pairs: [number, number][] = [
    [10, 12],
    [5, 4],
    [7, 7],
    [3, 9],
  ];
  const { r, spec } = regressionRollup(pairs);
  const errors = pairs.map(([p, ref]) => p - ref);
  assert.deepEqual(errorSummary(r), {
    n: 4,
    mae: errors.reduce((s, e) => s + Math.abs(e), 0) / 4,
    rmse: Math.sqrt(errors.reduce((s, e) => s + e * e, 0) / 4),
    bias: errors.reduce((s, e) => s + e, 0) / 4,
  });
  assert.equal(errorSummary(emptyRollup()), null);
  const h = errorHistogram(r, spec);
  assert.equal(h.counts.length, spec.error.length - 1);
  assert.equal(
    h.counts.reduce((a, b) => a + b, 0),
    4,
  );
});

test('mean and population std of a ValueStats equal numpy', () => {
  const values = [2.5, 7, 7, 13, -1.25, 4];
  const { r } = regressionRollup(values.map((v) => [v, v]));
  const s = python<{ mean: number; std: number }>(
    'import sys, json, numpy as np\nv = np.array(json.load(sys.stdin))\nprint(json.dumps(dict(mean=float(v.mean()), std=float(v.std()))))',
    values,
  );
  close(valueMean(r.output), s.mean, 1e-14, 'mean');
  close(valueStd(r.output), s.std, 1e-12, 'std');
  assert.equal(valueMean(emptyRollup().output), null);
  assert.equal(valueStd(emptyRollup().output), null);
});

test('classification summary equals scikit-learn’s definitions on a hand-counted confusion', () => {
  const spec: BinSpec = binSpecFor(null, { classes: 3 });
  const r = emptyRollup(true);
  // [predicted, reference] × times
  const records: [number, number, number][] = [
    [0, 0, 5],
    [1, 0, 2],
    [1, 1, 3],
    [0, 1, 1],
  ];
  for (const [p, ref, times] of records)
    for (let i = 0; i < times; i++) foldRecord(r, spec, { features: {}, prediction: p, reference: ref });
  assert.deepEqual(classificationSummary(r, 3), {
    n: 11,
    accuracy: 8 / 11,
    precision: [5 / 6, 3 / 5, null],
    recall: [5 / 7, 3 / 4, null],
    matrix: [
      [5, 2, 0],
      [1, 3, 0],
      [0, 0, 0],
    ],
  });
  assert.equal(classificationSummary(emptyRollup(true), 3), null);
  assert.equal(classificationSummary(regressionRollup([[1, 2]]).r), null);
});
