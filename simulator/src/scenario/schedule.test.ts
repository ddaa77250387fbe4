import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadScenario, parseScenario } from './load.js';
import { SceneSampler } from './sample.js';
import { PhaseSchedule } from './schedule.js';
import { COLOURS } from './schema.js';

test('on-demand phases: the world stays in a phase until switched, whatever its duration says', () => {
  const origin = loadScenario('origin-phases');
  const s = new PhaseSchedule(origin);
  assert.equal(s.at(10_000).phase.name, 'baseline', 'the baseline phase lasts 300 s when timed; here it stays');
  s.switchTo('green-floor', 400);
  assert.equal(s.at(399.9).phase.name, 'baseline');
  assert.deepEqual(s.at(400).settings.floor.rgb, COLOURS.green);
  // Out of file order: a phase takes its settings as the file resolves them.
  s.switchTo('red', 500);
  assert.deepEqual(s.at(600).settings.floor.rgb, COLOURS.red);
  assert.deepEqual(s.at(600).settings.distance, { min: 0, max: 250 });
  assert.deepEqual(s.history(), [
    { at: 0, phase: 'baseline' },
    { at: 400, phase: 'green-floor' },
    { at: 500, phase: 'red' },
  ]);
  assert.deepEqual(s.current, { at: 500, phase: 'red' });
});

test('on-demand phases refuse unknown names and switches back in time, saying what is allowed', () => {
  const s = new PhaseSchedule(loadScenario('origin-phases'), 'beige');
  assert.throws(() => s.switchTo('purple', 10), /no phase "purple"; its phases are baseline, label-shift/);
  s.switchTo('red', 100);
  assert.throws(
    () => s.switchTo('beige', 50),
    /must not go back in time: asked for 50 s, the last switch was at 100 s/,
  );
  assert.throws(() => new PhaseSchedule(loadScenario('baseline'), 'red'), /scenario "baseline" has no phase "red"/);
});

test('a switch blends in over the phase’s transition, from the phase switched on before it', () => {
  const s = new PhaseSchedule(loadScenario('beige-to-red-gradual'));
  const red = s.scenario.phases[1]!;
  assert.ok(red.blendSeconds > 0);
  s.switchTo('red', 1000);
  const mid = s.at(1000 + red.blendSeconds / 2);
  assert.equal(mid.blend, 0.5);
  assert.ok(mid.settings.floor.rgb[1] < COLOURS.beige[1] && mid.settings.floor.rgb[1] > COLOURS.red[1]);
  assert.deepEqual(s.at(1000 + red.blendSeconds).settings.floor.rgb, COLOURS.red);
});

test('frames on a schedule are reproducible: same seed and switch times, same scenes', () => {
  const scenario = parseScenario(
    'name: two\nphases:\n  - { name: a, duration: 5 }\n  - { name: b, floor: { colour: red } }\n',
    'two.yaml',
  );
  const scenes = () => {
    const schedule = new PhaseSchedule(scenario);
    const sampler = new SceneSampler(scenario, { seed: 7, schedule });
    const out = [sampler.at(1), sampler.at(20)];
    schedule.switchTo('b', 30);
    out.push(sampler.at(29.75), sampler.at(30), sampler.at(31));
    return out;
  };
  const first = scenes();
  assert.deepEqual(first, scenes());
  assert.deepEqual(
    first.map((f) => f.phase),
    ['a', 'a', 'a', 'b', 'b'],
  );
  assert.deepEqual(first[3]!.params.floor.rgb, COLOURS.red);
});
