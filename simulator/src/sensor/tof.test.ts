import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../rng.js';
import { reading, tofOutlierRate, tofSigma } from './tof.js';

test('readings scatter around the truth by the documented σ, in whole millimetres', () => {
  const rng = mulberry32(1);
  for (const truth of [20, 120, 250]) {
    const errors: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const r = reading(truth, rng);
      assert.ok(Number.isInteger(r) && r >= 0);
      const e = r - truth;
      if (Math.abs(e) < 8 * tofSigma(truth)) errors.push(e); // outliers aside
    }
    const mean = errors.reduce((s, e) => s + e, 0) / errors.length;
    const sd = Math.sqrt(errors.reduce((s, e) => s + (e - mean) ** 2, 0) / errors.length);
    assert.ok(Math.abs(mean) < 0.1, `bias ${mean} at ${truth} mm`);
    // Rounding to whole mm adds 1/12 mm² of variance.
    assert.ok(Math.abs(sd - Math.sqrt(tofSigma(truth) ** 2 + 1 / 12)) < 0.1, `σ ${sd} at ${truth} mm`);
  }
  assert.ok(tofSigma(250) > 3.5 && tofSigma(250) < 4.5, 'a few mm at 250 mm');
});

test('outliers are rare, and more frequent on an angled wall', () => {
  const count = (angleDeg: number) => {
    const rng = mulberry32(2);
    let n = 0;
    for (let i = 0; i < 100_000; i++) if (Math.abs(reading(150, rng, { angleDeg }) - 150) > 30) n++;
    return n / 100_000;
  };
  const straight = count(0),
    angled = count(30);
  // An outlier can land near the truth by chance, so the rate seen is a little below the rate drawn.
  assert.ok(straight > 0.001 && straight <= tofOutlierRate(0), `straight ${straight}`);
  assert.ok(angled > 0.0035 && angled <= tofOutlierRate(30), `angled ${angled}`);
});

test('the same stream gives the same readings; a reading never goes below zero', () => {
  const a = mulberry32(5),
    b = mulberry32(5);
  for (let i = 0; i < 100; i++) assert.equal(reading(i, a), reading(i, b));
  const rng = mulberry32(6);
  for (let i = 0; i < 10_000; i++) assert.ok(reading(0, rng) >= 0);
});
