import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay } from './backoff.js';

const opts = { minMs: 1000, maxMs: 60_000 };

test('each pause lies in [step/2, step], the step doubling from minMs up to maxMs', () => {
  const steps = [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000];
  steps.forEach((step, i) => {
    assert.equal(
      backoffDelay(i + 1, opts, () => 0),
      step / 2,
      `attempt ${i + 1}, no jitter`,
    );
    assert.equal(
      backoffDelay(i + 1, opts, () => 0.999999),
      step,
      `attempt ${i + 1}, full jitter`,
    );
  });
});

test('below the cap pauses grow for sure: the shortest of an attempt is never below the longest of the one before', () => {
  // Steps 1, 2, 4, 8, 16, 32 s: attempts 1-6 are below the 60 s cap.
  for (let attempt = 1; attempt < 6; attempt++) {
    assert.ok(
      backoffDelay(attempt + 1, opts, () => 0) >= backoffDelay(attempt, opts, () => 0.999999),
      `attempt ${attempt + 1}`,
    );
  }
  for (let attempt = 7; attempt < 40; attempt++)
    assert.ok(backoffDelay(attempt, opts, () => 0) >= 30_000, 'at the cap, never below half of it');
});

test('bounded however long the outage, and spread out by the jitter', () => {
  assert.equal(
    backoffDelay(10_000, opts, () => 0.999999),
    60_000,
  );
  const pauses = new Set(Array.from({ length: 50 }, () => backoffDelay(3, opts)));
  assert.ok(pauses.size > 10, 'devices with the same history do not all wait the same');
  for (const p of pauses) assert.ok(p >= 2000 && p <= 4000);
});
