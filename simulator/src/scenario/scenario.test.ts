import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinScenarios, loadScenario, parseScenario, ScenarioError } from './load.js';
import { phaseAt } from './timeline.js';
import { SceneSampler } from './sample.js';
import { COLOURS } from './schema.js';

test('every shipped scenario loads, and the drift phases differ from the baseline as the origin did', () => {
  const names = builtinScenarios();
  for (const required of [
    'baseline',
    'label-shift',
    'covariate-shift',
    'concept-drift',
    'beige-to-red',
    'beige-to-red-gradual',
  ])
    assert.ok(names.includes(required), `missing shipped scenario ${required}`);
  for (const name of names) loadScenario(name);

  const baseline = loadScenario('baseline').phases[0]!.settings;
  assert.deepEqual(baseline.distance, { min: 0, max: 250 });
  assert.deepEqual(baseline.floor.rgb, COLOURS.beige);
  assert.deepEqual(loadScenario('label-shift').phases[1]!.settings.distance, { min: 0, max: 350 });
  assert.deepEqual(loadScenario('covariate-shift').phases[1]!.settings.floor.rgb, COLOURS.green);
  assert.deepEqual(loadScenario('concept-drift').phases[1]!.settings.angle, { min: 0, max: 30 });
  // A later phase keeps what it does not change.
  assert.deepEqual(loadScenario('covariate-shift').phases[1]!.settings.distance, { min: 0, max: 250 });
});

test('a sudden change switches at the phase boundary; a gradual one blends over its seconds', () => {
  const sudden = loadScenario('beige-to-red');
  assert.deepEqual(phaseAt(sudden, 119.9).settings.floor.rgb, COLOURS.beige);
  assert.deepEqual(phaseAt(sudden, 120).settings.floor.rgb, COLOURS.red);

  const gradual = loadScenario('beige-to-red-gradual');
  const mid = phaseAt(gradual, 150);
  assert.equal(mid.phase.name, 'red');
  assert.equal(mid.blend, 0.5);
  const [r, g] = mid.settings.floor.rgb;
  assert.ok(r < COLOURS.beige[0] && r > COLOURS.red[0], `red channel halfway, got ${r}`);
  assert.ok(g < COLOURS.beige[1] && g > COLOURS.red[1], `green channel halfway, got ${g}`);
  assert.deepEqual(phaseAt(gradual, 181).settings.floor.rgb, COLOURS.red);
  // After the last phase's end the last phase stays on.
  assert.equal(phaseAt(sudden, 1e6).phase.name, 'red');
});

test('scenario file errors name the field and say what is allowed', () => {
  const bad = (yaml: string) => {
    try {
      parseScenario(yaml, 'test.yaml');
    } catch (err) {
      assert.ok(err instanceof ScenarioError);
      return err.message;
    }
    assert.fail('expected a ScenarioError');
  };
  const unknown = bad('name: x\nphases:\n  - name: a\n    colour: red\n');
  assert.match(unknown, /phases\.0: unknown field "colour" \(a phase may have: name, duration, distance/);
  assert.match(
    bad('name: x\nphases:\n  - name: a\n    distance: { min: 300, max: 200 }\n'),
    /phases\.0\.distance: min must be ≤ max/,
  );
  assert.match(bad('name: x\nphases:\n  - name: a\n    distance: -4\n'), /phases\.0\.distance: must be ≥ 0 mm/);
  assert.match(
    bad('name: x\nphases:\n  - name: a\n    floor: { colour: purple }\n'),
    /phases\.0\.floor\.colour: must be one of beige, red, green/,
  );
  assert.match(
    bad('name: x\nphases:\n  - name: a\n  - name: b\n'),
    /phases\.0\.duration: only the last phase may leave out its duration/,
  );
  assert.match(
    bad(
      'name: x\nphases:\n  - name: a\n    duration: 10\n  - name: b\n    duration: 5\n    transition: { kind: gradual, seconds: 9 }\n',
    ),
    /must fit in the phase's duration/,
  );
  assert.match(bad('name: x\nphases: [\n'), /test\.yaml: not valid YAML/);
  assert.match(bad('name: x\nphases: []\n'), /at least one phase/);
  assert.throws(() => loadScenario('no-such-scenario'), /no shipped scenario of that name; .* one of: .*baseline/);
});

test('JSON scenarios work as well as YAML', () => {
  const s = parseScenario(
    JSON.stringify({ name: 'j', fps: 2, phases: [{ name: 'only', distance: 100, floor: { colour: '#102030' } }] }),
    'j.json',
  );
  assert.equal(s.fps, 2);
  assert.deepEqual(s.phases[0]!.settings.floor.rgb, [16, 32, 48]);
  assert.deepEqual(s.phases[0]!.settings.distance, { min: 100, max: 100 });
});

test('the car parks: distance stays in range, moves smoothly, and covers the range', () => {
  const sampler = new SceneSampler(loadScenario('baseline'), { seed: 3 });
  let previous: number | undefined;
  let min = Infinity,
    max = -Infinity;
  let stops = 0;
  for (let frame = 0; frame < 4 * 600; frame++) {
    const { trueMm } = sampler.at(frame / 4);
    assert.ok(trueMm >= 0 && trueMm <= 250, `distance ${trueMm} outside 0–250`);
    if (previous !== undefined)
      assert.ok(Math.abs(trueMm - previous) < 60, `jump of ${trueMm - previous} mm in 0.25 s`);
    if (trueMm < 15) stops++;
    min = Math.min(min, trueMm);
    max = Math.max(max, trueMm);
    previous = trueMm;
  }
  assert.ok(min < 10 && max > 230, `range covered ${min}–${max}`);
  assert.ok(stops > 50, 'the car reaches the wall again and again');
});

test('a device is reproduced from its seed, in any query order; other seeds differ', () => {
  const scenario = loadScenario('concept-drift');
  const a = new SceneSampler(scenario, { seed: 9 });
  const b = new SceneSampler(scenario, { seed: 9 });
  const later = a.at(500);
  for (let t = 0; t < 500; t += 7.25) b.at(t);
  assert.deepEqual(b.at(500), later);
  assert.notDeepEqual(new SceneSampler(scenario, { seed: 10 }).at(500), later);
  assert.equal(later.phase, 'angled');
  assert.ok(Math.abs(later.params.angleDeg!) <= 30);
});

test('holding one phase, and asking for a phase that does not exist', () => {
  const s = new SceneSampler(loadScenario('label-shift'), { seed: 1, phase: 'label-shift' });
  assert.equal(s.at(0).phase, 'label-shift');
  assert.throws(
    () => new SceneSampler(loadScenario('label-shift'), { seed: 1, phase: 'nope' }),
    /has no phase "nope"; its phases are baseline, label-shift/,
  );
});
