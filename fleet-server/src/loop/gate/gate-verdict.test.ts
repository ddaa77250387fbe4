/**
 * The gate's rule on numbers: accepted only when clearly better on recent data and not much worse
 * on the original holdout; too few items, a missing holdout and non-finite predictions each
 * handled as the policy says, with sentences that carry the numbers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gateComparisonSchema } from '@edgeloop/protocol/rest';
import { gateVerdict, RATIO_CAP, type HoldoutScores, type VerdictInput } from './gate-verdict.js';

const gate = { minImprovement: 0.1, originalTolerance: 0.1, minHoldout: 30 };

const side = (count: number, champion: number, challenger: number, challengerInvalid = 0): HoldoutScores => ({
  count,
  champion: { mae: champion, rmse: champion * 1.3 },
  challenger: { mae: challenger, rmse: challenger * 1.3 },
  challengerInvalid,
});

function verdict(over: Partial<VerdictInput>) {
  const result = gateVerdict({
    champion: { model: 'distance', version: 1 },
    challenger: { trainingRunId: 'tj-0123456789-1', modelSha256: 'a'.repeat(64) },
    recent: side(120, 20, 8),
    original: side(80, 5, 5.2),
    gate,
    unit: 'mm',
    evaluatedAt: 1_790_000_000_000,
    ...over,
  });
  // Whatever the branch, the answer is a valid GateComparison.
  gateComparisonSchema.parse(result);
  return result;
}

test('better on recent data and within the tolerance on the original holdout: accepted', () => {
  const r = verdict({});
  assert.equal(r.verdict, 'accepted');
  assert.deepEqual(r.recent, {
    count: 120,
    champion: { mae: 20, rmse: 26 },
    challenger: { mae: 8, rmse: 10.4 },
    ratio: 0.4,
    passed: true,
  });
  assert.equal(r.original!.passed, true);
  assert.equal(r.original!.ratio, 1.04);
  assert.deepEqual(r.reasons, [
    "Challenger MAE 8.0 mm on 120 recent holdout items is 0.40 × the champion's 20.0 mm; within the policy's ≤ 0.90 ×.",
    "Challenger MAE 5.2 mm on 80 original holdout items is 1.04 × the champion's 5.0 mm; within the policy's ≤ 1.10 ×.",
  ]);
  assert.equal(r.minImprovement, 0.1);
  assert.equal(r.originalTolerance, 0.1);
});

test('not better enough on recent data: rejected, saying by how much', () => {
  const r = verdict({ recent: side(120, 8.1, 7.9) });
  assert.equal(r.verdict, 'rejected');
  assert.equal(r.recent!.passed, false);
  assert.equal(
    r.reasons[0],
    "Challenger MAE 7.9 mm on 120 recent holdout items is 0.98 × the champion's 8.1 mm; the policy asks ≤ 0.90 × (at least 10 % better), so the challenger is not better enough on recent data.",
  );
});

test('the limit itself passes; a hair above it fails and shows the digits that tell them apart', () => {
  assert.equal(verdict({ recent: side(30, 10, 9) }).verdict, 'accepted');
  const above = verdict({ recent: side(30, 10, 9.0004) });
  assert.equal(above.verdict, 'rejected');
  assert.match(above.reasons[0]!, /is 0\.90004 × the champion's 10\.0 mm; the policy asks ≤ 0\.90 ×/);
});

test('worse on the original holdout than the tolerance: rejected although better on recent data', () => {
  const r = verdict({ original: side(80, 5, 6) });
  assert.equal(r.verdict, 'rejected');
  assert.equal(r.recent!.passed, true);
  assert.equal(r.original!.passed, false);
  assert.equal(
    r.reasons[1],
    "Challenger MAE 6.0 mm on 80 original holdout items is 1.20 × the champion's 5.0 mm; the policy allows ≤ 1.10 × (at most 10 % worse), so the challenger lost too much of what the champion knew.",
  );
});

test('too few recent holdout items: rejected, not judged, saying what to do', () => {
  const r = verdict({ recent: side(12, 20, 1) });
  assert.equal(r.verdict, 'rejected');
  assert.equal(r.recent!.passed, null);
  assert.equal(r.recent!.count, 12);
  assert.match(
    r.reasons[0]!,
    /^Only 12 recent holdout items, fewer than the 30 the policy asks for, .*lower gate\.minHoldout\.$/,
  );
});

test('no recent holdout at all: rejected with the reason given', () => {
  const r = verdict({
    recent: null,
    recentMissing: 'every holdout item of the new dataset is in the champion’s training data',
  });
  assert.equal(r.verdict, 'rejected');
  assert.equal(r.recent, null);
  assert.match(
    r.reasons[0]!,
    /no recent holdout .*\(every holdout item of the new dataset is in the champion’s training data\); the gate needs at least 30/,
  );
});

test('a missing original holdout does not block, and says so', () => {
  const r = verdict({ original: null, originalMissing: 'distance v1 names no dataset snapshot' });
  assert.equal(r.verdict, 'accepted');
  assert.equal(r.original, null);
  assert.equal(
    r.reasons[1],
    'There is no original holdout (distance v1 names no dataset snapshot), so whether the challenger forgot what the champion knew is not checked; it was judged on recent data only.',
  );
});

test('a small original holdout is reported but does not count, even when worse', () => {
  const r = verdict({ original: side(10, 5, 50) });
  assert.equal(r.verdict, 'accepted');
  assert.equal(r.original!.passed, null);
  assert.equal(r.original!.ratio, 10);
  assert.match(r.reasons[1]!, /^Only 10 original holdout items, fewer than the 30 .* judged on recent data only\.$/);
});

test('non-finite challenger predictions fail the side they appear on', () => {
  const recent = verdict({ recent: side(120, 20, 3, 4) });
  assert.equal(recent.verdict, 'rejected');
  assert.equal(recent.recent!.passed, false);
  assert.equal(
    recent.reasons[0],
    'The challenger gave 4 non-finite predictions (NaN or infinite) on the 120 recent holdout items.',
  );
  const original = verdict({ original: side(80, 5, 5, 1) });
  assert.equal(original.verdict, 'rejected');
  assert.equal(original.original!.passed, false);
});

test('a perfect champion: any challenger error fails, the ratio is capped, zero against zero is 1', () => {
  const worse = verdict({ recent: side(40, 0, 0.5) });
  assert.equal(worse.verdict, 'rejected');
  assert.equal(worse.recent!.ratio, RATIO_CAP);
  const equal = verdict({ recent: side(40, 0, 0), gate: { ...gate, minImprovement: 0 } });
  assert.equal(equal.recent!.ratio, 1);
  assert.equal(equal.verdict, 'accepted');
});

test('the policy’s own numbers decide: a stricter improvement and a looser tolerance', () => {
  const strict = verdict({ recent: side(120, 20, 15), gate: { ...gate, minImprovement: 0.3 } });
  assert.equal(strict.verdict, 'rejected');
  assert.match(strict.reasons[0]!, /0\.75 × .* asks ≤ 0\.70 × \(at least 30 % better\)/);
  const loose = verdict({ original: side(80, 5, 7), gate: { ...gate, originalTolerance: 0.5 } });
  assert.equal(loose.verdict, 'accepted');
});
