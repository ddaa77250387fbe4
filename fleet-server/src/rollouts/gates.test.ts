/** Gate arithmetic on numbers alone: failures, success, live error, and when a wave is done (drift's PSI: rollups/live-error.test.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeFailures, judgeLiveError, judgeSuccess, waveGates, type WaveTally } from './gates.js';

const tally = (t: Partial<WaveTally>): WaveTally => ({
  size: 10,
  pending: 0,
  inProgress: 0,
  succeeded: 0,
  failed: 0,
  offline: 0,
  ...t,
});
const live = { maxErrorRatio: 1.2, minDelta: 0, minRecords: 30, required: 'auto' as const };

test('failures are judged only after minDevices are decided, then against errorThreshold (strictly above)', () => {
  const p = { errorThreshold: 0.2, minDevices: 3 };
  assert.equal(
    judgeFailures(tally({ failed: 1, succeeded: 1, inProgress: 8 }), p).judged,
    false,
    'two decided of three needed',
  );
  const v = judgeFailures(tally({ failed: 1, succeeded: 2, inProgress: 7 }), p);
  assert.equal(v.judged, true);
  assert.equal(v.rate, 1 / 3);
  assert.equal(v.tripped, true);
  assert.equal(judgeFailures(tally({ failed: 1, succeeded: 4 }), p).tripped, false, '20 % is not more than 20 %');
  assert.equal(
    judgeFailures(tally({ failed: 0, offline: 2, succeeded: 3 }), p).tripped,
    true,
    'devices offline too long count as failures',
  );
  // A wave smaller than minDevices is judged once all of it is decided.
  assert.equal(judgeFailures(tally({ size: 1, failed: 1 }), p).tripped, true);
  // errorThreshold 0: any failure trips.
  assert.equal(judgeFailures(tally({ size: 1, failed: 1 }), { errorThreshold: 0, minDevices: 1 }).tripped, true);
});

test('success needs the share of the whole wave active', () => {
  assert.deepEqual(judgeSuccess(tally({ succeeded: 8 }), { successThreshold: 0.8 }), { rate: 0.8, met: true });
  assert.equal(judgeSuccess(tally({ succeeded: 7, inProgress: 3 }), { successThreshold: 0.8 }).met, false);
});

test('live error compares MAE per arm with maxErrorRatio and minDelta, given enough records', () => {
  const insufficient = judgeLiveError({ version: 2, records: 10, mae: 50 }, { version: 1, records: 40, mae: 5 }, live);
  assert.equal(insufficient.status, 'insufficient');
  assert.equal(
    insufficient.required,
    true,
    'auto: the baseline has reference values, so the candidate must show its own',
  );
  assert.equal(
    judgeLiveError({ version: 2, records: 0, mae: null }, { version: 1, records: 0, mae: null }, live).required,
    false,
  );
  const fail = judgeLiveError({ version: 2, records: 30, mae: 13 }, { version: 1, records: 30, mae: 10 }, live);
  assert.equal(fail.status, 'fail');
  assert.equal(fail.ratio, 1.3);
  assert.match(fail.detail, /candidate MAE 13 .* baseline MAE 10 .*ratio 1.3/);
  assert.equal(
    judgeLiveError({ version: 2, records: 30, mae: 11.9 }, { version: 1, records: 30, mae: 10 }, live).status,
    'pass',
  );
  assert.equal(
    judgeLiveError({ version: 2, records: 30, mae: 13 }, { version: 1, records: 30, mae: 10 }, { ...live, minDelta: 5 })
      .status,
    'pass',
    'within minDelta',
  );
  assert.equal(
    judgeLiveError({ version: 2, records: 30, mae: 1 }, { version: 1, records: 30, mae: 0 }, live).status,
    'fail',
    'a perfect baseline',
  );
  assert.equal(
    judgeLiveError(
      { version: 2, records: 30, mae: 1 },
      { version: 1, records: 30, mae: 5 },
      { ...live, required: 'never' },
    ).status,
    'pass',
  );
});

test('a wave is done when assigned, successful, soaked, and live error allows it', () => {
  const ok = { status: 'pass' as const, ratio: 1, required: true, detail: '' };
  const base = { tally: tally({ succeeded: 9, failed: 1 }), startedAt: 1000, waitMs: 500, now: 1600, liveError: ok };
  assert.equal(waveGates(base, { successThreshold: 0.8 }).done, true);
  assert.equal(waveGates({ ...base, now: 1400 }, { successThreshold: 0.8 }).done, false, 'still soaking');
  assert.equal(
    waveGates({ ...base, tally: tally({ succeeded: 9, pending: 1 }) }, { successThreshold: 0.8 }).done,
    false,
    'devices still pending',
  );
  const waiting = { status: 'insufficient' as const, ratio: null, required: true, detail: '' };
  assert.equal(
    waveGates({ ...base, liveError: waiting }, { successThreshold: 0.8 }).done,
    false,
    'required live error not yet measurable',
  );
  assert.equal(
    waveGates({ ...base, liveError: { ...waiting, required: false } }, { successThreshold: 0.8 }).done,
    true,
  );
});
