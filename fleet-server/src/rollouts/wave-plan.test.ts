/** Wave planning: cumulative specs, rounding up, dropping empty waves, reaching every device. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rolloutParametersSchema } from '@edgeloop/protocol/rest';
import { extendToAll, planForStrategy, planWaves, waveOf } from './wave-plan.js';

const sizes = (ws: Array<{ size: number }>) => ws.map((w) => w.size);

test('staged waves are cumulative shares, rounded up, the last reaching everyone', () => {
  assert.deepEqual(sizes(planWaves([{ percent: 10 }, { percent: 50 }, { percent: 100 }], 20, 0)), [2, 8, 10]);
  assert.deepEqual(sizes(planWaves([{ percent: 10 }, { percent: 50 }, { percent: 100 }], 3, 0)), [1, 1, 1]);
  assert.deepEqual(sizes(planWaves([{ percent: 10 }, { percent: 50 }], 2, 0)), [1, 1], 'an implicit final wave');
  assert.deepEqual(
    sizes(planWaves([{ count: 1 }, { count: 5 }, { percent: 100 }], 4, 0)),
    [1, 3],
    'waves adding nobody are dropped',
  );
  assert.deepEqual(
    planWaves([{ percent: 50, waitMs: 7 }], 4, 3).map((w) => w.waitMs),
    [7, 7],
  );
});

test('strategies map to waves: direct one, canary small first, ab holds at its share', () => {
  const p = rolloutParametersSchema.parse({});
  assert.deepEqual(sizes(planForStrategy('direct', p, 7)), [7]);
  assert.equal(planForStrategy('direct', p, 7)[0]!.waitMs, 0);
  assert.deepEqual(sizes(planForStrategy('canary', p, 40)), [2, 38]);
  assert.deepEqual(
    sizes(planForStrategy('canary', rolloutParametersSchema.parse({ canary: { count: 1 } }), 40)),
    [1, 39],
  );
  const ab = planForStrategy('ab', rolloutParametersSchema.parse({ abPercent: 25 }), 8);
  assert.deepEqual(sizes(ab), [2]);
  assert.equal(waveOf(ab, 5), 1, 'devices beyond the A/B share wait for promote');
  assert.deepEqual(sizes(extendToAll(ab, 8, 0)), [2, 6]);
  assert.deepEqual(sizes(planForStrategy('staged', p, 10)), [1, 4, 5]);
});
