import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PAGE_HINKLEY_DEFAULTS } from '@edgeloop/protocol';
import { BaselineDistance } from './baseline-distance.js';
import { PageHinkley } from './page-hinkley.js';
import { baselineOf, camera, FLOORS } from './test-support.js';

const FRAME_MS = 250; // 4 frames/s

test('Page-Hinkley on the baseline distance stays quiet through 30 minutes of stable frames, on several seeds', () => {
  const distance = new BaselineDistance(baselineOf(FLOORS.beige));
  for (const seed of [1, 2, 3, 4, 5]) {
    const ph = new PageHinkley(PAGE_HINKLEY_DEFAULTS);
    const cam = camera(seed);
    const alarms: number[] = [];
    for (let i = 0; i < 30 * 60 * 4; i++) {
      if (ph.add(distance.of(cam(FLOORS.beige))!, i * FRAME_MS) === 'alarm') alarms.push(i);
    }
    assert.deepEqual(alarms, [], `seed ${seed}`);
  }
});

test('a covariate shift (beige → green floor) alarms within seconds, once, and resolves when the floor is back', () => {
  const distance = new BaselineDistance(baselineOf(FLOORS.beige));
  for (const seed of [1, 2, 3]) {
    const ph = new PageHinkley(PAGE_HINKLEY_DEFAULTS);
    const cam = camera(seed);
    const onset = 10 * 60 * 4; // after 10 stable minutes
    const back = onset + 10 * 60 * 4;
    const events: Array<[string, number]> = [];
    for (let i = 0; i < back + 5 * 60 * 4; i++) {
      const floor = i >= onset && i < back ? FLOORS.green : FLOORS.beige;
      const e = ph.add(distance.of(cam(floor))!, i * FRAME_MS);
      if (e) events.push([e, i]);
    }
    assert.equal(events[0]?.[0], 'alarm', `seed ${seed}: ${JSON.stringify(events)}`);
    const latencyS = ((events[0]![1] - onset) * FRAME_MS) / 1000;
    assert.ok(latencyS >= 0 && latencyS <= 60, `seed ${seed}: alarm ${latencyS} s after the onset`);
    assert.deepEqual(
      events.map((e) => e[0]),
      ['alarm', 'resolved'],
      `seed ${seed}: one alarm for one change, resolved after the floor came back: ${JSON.stringify(events)}`,
    );
    assert.ok(events[1]![1] > back, 'resolves only after the shift ended');
  }
});

test('the baseline distance of training-like frames is small, of shifted ones large', () => {
  const distance = new BaselineDistance(baselineOf(FLOORS.beige));
  const cam = camera(7, 0);
  const mean = (floor: (typeof FLOORS)['beige']) => {
    let s = 0;
    for (let i = 0; i < 500; i++) s += distance.of(cam(floor))!;
    return s / 500;
  };
  assert.ok(mean(FLOORS.beige) < 1.5, `stable ${mean(FLOORS.beige)}`);
  assert.ok(mean(FLOORS.green) > 4, `shifted ${mean(FLOORS.green)}`);
  assert.equal(distance.of({ unrelated: 1 }), null);
});
